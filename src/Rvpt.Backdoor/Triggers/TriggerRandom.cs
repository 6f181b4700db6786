using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Deterministic randomness for triggers. Per-row choices come from a stateless SplitMix64 hash of (seed, row),
/// so they depend only on those two numbers (not on batch composition, call order or thread); noise tensors are
/// drawn on the CPU from a seeded generator, so a pattern is the same whatever the image's device.
/// </summary>
internal static class TriggerRandom
{
    /// <summary>A 64-bit hash (<see cref="SeedMixer.Hash"/>) of (<paramref name="seed"/>, <paramref name="row"/>, <paramref name="stream"/>).</summary>
    internal static ulong Hash(long seed, long row, ulong stream = 0) => SeedMixer.Hash(seed, row, stream);

    /// <summary>Maps a hash to an integer uniform in [0, <paramref name="count"/>) (53-bit resolution).</summary>
    internal static long UniformIndex(ulong hash, long count)
    {
        if (count <= 1) return 0;
        var u = (hash >> 11) * (1.0 / (1UL << 53));
        return Math.Min(count - 1, (long)(u * count));
    }

    /// <summary>Uniform [0, 1) float32 noise of <paramref name="shape"/> on the CPU from a generator seeded by <paramref name="seed"/>.</summary>
    internal static Tensor CpuUniform(long seed, params long[] shape)
    {
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        return rand(shape, ScalarType.Float32, CPU, generator: generator);
    }

    /// <summary>Standard normal float32 noise of <paramref name="shape"/> on the CPU from a generator seeded by <paramref name="seed"/>.</summary>
    internal static Tensor CpuNormal(long seed, params long[] shape)
    {
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        return randn(shape, ScalarType.Float32, CPU, generator: generator);
    }
}
