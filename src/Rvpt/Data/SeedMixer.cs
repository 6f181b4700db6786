namespace Rvpt;

/// <summary>
/// The one home of seed derivation in the libraries and the lab (issue 15): every place that turns a base seed and a
/// number (an epoch, a row, an image index, a stream) into another seed calls one of these. Each function is kept
/// bit for bit as it was first written, because models cached by the lab and the published tables depend on the
/// exact numbers; they differ from each other for that reason only, and new code should use <see cref="Mix(int, int)"/> (an
/// <see cref="int"/> seed for <see cref="Random"/>) or <see cref="Hash"/> (a 64-bit hash).
/// </summary>
internal static class SeedMixer
{
    /// <summary>
    /// A public <see cref="long"/> seed as the 32-bit seed that <see cref="Random"/> and <see cref="Mix(int, int)"/>
    /// take: the value itself when it fits in an <see cref="int"/> (so every seed that was an int before the API took
    /// longs gives the same numbers as before), else a 31-bit hash of it.
    /// </summary>
    public static int To32(long seed) =>
        seed is >= int.MinValue and <= int.MaxValue ? (int)seed : (int)(Hash(seed, 0) & 0x7FFF_FFFF);

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

    /// <summary>
    /// A 64-bit hash of (<paramref name="seed"/>, <paramref name="row"/>, <paramref name="stream"/>): SplitMix64's
    /// finaliser chained over the three, so a trigger's per-row choice depends on those numbers only.
    /// </summary>
    public static ulong Hash(long seed, long row, ulong stream = 0)
    {
        var z = Finalize((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        z = Finalize(z ^ (ulong)row);
        return Finalize(z ^ stream);
    }

    /// <summary>
    /// A well-mixed 31-bit seed for <see cref="Random"/> (whose seeded algorithm is fixed across processes) from
    /// (<paramref name="seed"/>, <paramref name="index"/>, <paramref name="stream"/>): the synthetic world's sampling.
    /// </summary>
    public static int Mix(long seed, int index, int stream)
    {
        unchecked
        {
            ulong z = (ulong)seed * 0x9E3779B97F4A7C15UL;
            z ^= (ulong)(uint)index * 0xC2B2AE3D27D4EB4FUL + (ulong)stream * 0x165667B19E3779F9UL;
            z ^= z >> 30; z *= 0xBF58476D1CE4E5B9UL;
            z ^= z >> 27; z *= 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)(z & 0x7FFF_FFFF);
        }
    }

    /// <summary>
    /// <c>seed * 1_000_003 + index</c> in 32-bit arithmetic (wrapping): the per-epoch shuffle seed of the contrastive
    /// fine-tuners. Not <see cref="HashCode"/>, which is randomised per process.
    /// </summary>
    public static int Offset32(int seed, int index) => unchecked(seed * 1_000_003 + index);

    /// <summary><c>seed * 1_000_003 + index</c> in 64-bit arithmetic (wrapping): the per-image trigger seed of evaluation, poisoning and resistivity.</summary>
    public static long Offset64(long seed, long index) => unchecked(seed * 1_000_003L + index);

    // SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective, well-mixing 64-bit hash.
    private static ulong Finalize(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
