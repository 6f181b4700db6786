using Xunit;

namespace Rvpt.Tests;

/// <summary>
/// The public API takes <see cref="long"/> seeds; <see cref="SeedMixer.To32"/> turns them into the <see cref="int"/>
/// that <see cref="Random"/> takes, without changing any seed that was an int before.
/// </summary>
public sealed class SeedMixerTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(-7L)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void IntRangeSeedsAreKept(long seed) => Assert.Equal((int)seed, SeedMixer.To32(seed));

    [Fact]
    public void LargerSeedsGiveDistinctRepeatableNonNegativeInts()
    {
        long a = 1L << 32, b = (1L << 32) + 1, c = long.MinValue;
        Assert.Equal(SeedMixer.To32(a), SeedMixer.To32(a));
        Assert.NotEqual(SeedMixer.To32(a), SeedMixer.To32(b));
        // Not the truncation, which would send 2^32 to seed 0 and 2^32 + 1 to seed 1.
        Assert.NotEqual(0, SeedMixer.To32(a));
        Assert.NotEqual(1, SeedMixer.To32(b));
        Assert.All(new[] { a, b, c, long.MaxValue }, s => Assert.InRange(SeedMixer.To32(s), 0, int.MaxValue));
    }
}
