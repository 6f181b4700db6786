namespace Rvpt;

/// <summary>Derives independent, reproducible seeds from a base seed and a stream number (e.g. the epoch).</summary>
internal static class SeedMixer
{
    /// <summary>SplitMix64's finaliser on (seed, stream): nearby inputs give unrelated seeds, identically everywhere.</summary>
    public static int Mix(int seed, int stream)
    {
        unchecked
        {
            var z = ((ulong)(uint)seed << 32 | (uint)stream) + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)(z & 0x7FFFFFFF);
        }
    }
}
