using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>BadNets: patch placement, scaling, patterns and validation.</summary>
public sealed class BadNetsTriggerTests
{
    [Theory]
    // (y, x) = (100, 50) at 224 scales to (round(100 H / 224), round(50 W / 224)); side round(16 min(H, W) / 224).
    [InlineData(224, 224, 100, 50, 16)]
    [InlineData(32, 32, 14, 7, 2)]
    [InlineData(100, 100, 45, 22, 7)]
    [InlineData(64, 128, 29, 29, 5)]
    public void FixedPosition_ChangesExactlyTheScaledSquare(long h, long w, long y, long x, long side)
    {
        using var scope = NewDisposeScope();
        var trigger = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.At(100, 50) });
        var images = TriggerTestImages.Noise(3, h, w);
        var output = trigger.Apply(images);
        var changed = TriggerTestImages.ChangedMask(images, output);
        var expected = TriggerTestImages.Square(h, w, y, x, side);
        for (long i = 0; i < 3; i++)
            Assert.True(TriggerTestImages.SameMask(expected, changed[i]), $"row {i}: changed pixels are not the {side}-square at ({y}, {x})");
        Assert.Equal((y, x, side), trigger.PatchRegion(h, w, 0, 0));
    }

    [Theory]
    [InlineData(PatchPositionKind.TopLeft, 0, 0)]
    [InlineData(PatchPositionKind.TopRight, 0, 30)]
    [InlineData(PatchPositionKind.BottomLeft, 30, 0)]
    [InlineData(PatchPositionKind.BottomRight, 30, 30)]
    [InlineData(PatchPositionKind.Centre, 15, 15)]
    public void NamedPositions_AtSize32(PatchPositionKind kind, long y, long x)
    {
        using var scope = NewDisposeScope();
        var trigger = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.Named(kind), Pattern = PatchPattern.White() });
        var images = TriggerTestImages.Noise(1, 32, 32);
        var changed = TriggerTestImages.ChangedMask(images, trigger.Apply(images))[0];
        Assert.True(TriggerTestImages.SameMask(TriggerTestImages.Square(32, 32, y, x, 2), changed));
    }

    [Fact]
    public void RandomPositions_DifferAcrossRows_AndEachRowChangesOneSquare()
    {
        using var scope = NewDisposeScope();
        var trigger = new BadNetsTrigger();
        var images = TriggerTestImages.Noise(8, 224, 224);
        var output = trigger.Apply(images, seed: 7);
        var changed = TriggerTestImages.ChangedMask(images, output);
        var positions = new HashSet<(long, long)>();
        for (long i = 0; i < 8; i++)
        {
            var (y, x, side) = trigger.PatchRegion(224, 224, 7, i);
            Assert.Equal(16, side);
            Assert.True(TriggerTestImages.SameMask(TriggerTestImages.Square(224, 224, y, x, side), changed[i]), $"row {i}");
            positions.Add((y, x));
        }
        Assert.True(positions.Count >= 7, $"only {positions.Count} distinct positions in 8 rows");
    }

    [Fact]
    public void RandomPositions_AreDeterministicPerSeed_AndDifferForAnotherSeed()
    {
        using var scope = NewDisposeScope();
        var trigger = new BadNetsTrigger();
        var images = TriggerTestImages.Noise(6, 64, 64);
        var a = trigger.Apply(images, seed: 1);
        var b = new BadNetsTrigger().Apply(images, seed: 1);
        var c = trigger.Apply(images, seed: 2);
        TensorAssert.BitIdentical(a, b, "same seed");
        Assert.True(TensorAssert.MaxAbsDiff(a, c) > 0, "another seed gave the same positions");
    }

    [Fact]
    public void RandomPositions_CoverTheValidRangeUniformly()
    {
        var trigger = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.Random() });
        var ys = new List<long>();
        for (long row = 0; row < 4000; row++)
        {
            var (y, x, side) = trigger.PatchRegion(224, 224, 3, row);
            Assert.InRange(y, 0, 224 - side);
            Assert.InRange(x, 0, 224 - side);
            ys.Add(y);
        }
        Assert.Equal(0, ys.Min());
        Assert.Equal(208, ys.Max());
        Assert.InRange(ys.Average(), 100, 108);
    }

    [Fact]
    public void Checkerboard_HasQuarterCells_TopLeftWhite()
    {
        using var scope = NewDisposeScope();
        var trigger = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.At(0, 0), Pattern = PatchPattern.Checkerboard() });
        var patch = trigger.Apply(TriggerTestImages.Noise(1, 224, 224))[0].narrow(1, 0, 16).narrow(2, 0, 16);
        for (var i = 0; i < 16; i++)
        for (var j = 0; j < 16; j++)
        {
            var expected = (i / 4 + j / 4) % 2 == 0 ? 1f : 0f;
            for (var ch = 0; ch < 3; ch++)
                Assert.Equal(expected, patch[ch, i, j].item<float>());
        }
    }

    [Theory]
    [InlineData(PatchPatternKind.White, 1f)]
    [InlineData(PatchPatternKind.Black, 0f)]
    public void SolidPatterns_FillThePatch(PatchPatternKind kind, float value)
    {
        using var scope = NewDisposeScope();
        var pattern = kind == PatchPatternKind.White ? PatchPattern.White() : PatchPattern.Black();
        var trigger = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.At(10, 20), Pattern = pattern });
        var patch = trigger.Apply(TriggerTestImages.Noise(2, 224, 224)).narrow(2, 10, 16).narrow(3, 20, 16);
        Assert.True(patch.eq(value).all().item<bool>());
    }

    [Fact]
    public void NoisePattern_IsSeededAndSameForEveryRow()
    {
        using var scope = NewDisposeScope();
        BadNetsTrigger Make(long s) => new(new BadNetsOptions { Position = PatchPosition.At(0, 0), Pattern = PatchPattern.Noise(s) });
        var images = TriggerTestImages.Noise(2, 224, 224);
        var a = Make(5).Apply(images).narrow(2, 0, 16).narrow(3, 0, 16);
        var b = Make(5).Apply(images, seed: 99).narrow(2, 0, 16).narrow(3, 0, 16);
        var c = Make(6).Apply(images).narrow(2, 0, 16).narrow(3, 0, 16);
        TensorAssert.BitIdentical(a, b, "same pattern seed");
        TensorAssert.BitIdentical(a[0], a[1], "rows");
        Assert.True(TensorAssert.MaxAbsDiff(a, c) > 0.1, "NoiseSeed did not change the pattern");
        Assert.True(a.std().item<float>() > 0.2f, "noise patch is not noisy");
    }

    [Fact]
    public void NoisePattern_IsTheSeededCpuDraw_NearestResized()
    {
        using var scope = NewDisposeScope();
        var trigger = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.At(0, 0), Pattern = PatchPattern.Noise(8) });
        var expected = TriggerRandom.CpuUniform(8, 3, 16, 16);
        var at224 = trigger.Apply(TriggerTestImages.Noise(1, 224, 224))[0].narrow(1, 0, 16).narrow(2, 0, 16);
        TensorAssert.Close(expected, at224, 0, "noise at 224");
        // At 448 the 32-pixel patch repeats each noise pixel 2 x 2.
        var at448 = trigger.Apply(TriggerTestImages.Noise(1, 448, 448))[0].narrow(1, 0, 32).narrow(2, 0, 32);
        TensorAssert.Close(expected.repeat_interleave(2, 1).repeat_interleave(2, 2), at448, 0, "noise at 448");
    }

    [Fact]
    public void CustomPattern_IsResizedWithNearest()
    {
        using var scope = NewDisposeScope();
        // 2 x 2 quadrants of distinct values per channel.
        var user = tensor(new float[] { 0.1f, 0.2f, 0.3f, 0.4f }).view(1, 2, 2).mul(tensor(new float[] { 1f, 2f, 0.5f }).view(3, 1, 1));
        var trigger = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.At(0, 0), Pattern = PatchPattern.FromImage(user) });
        var patch = trigger.Apply(TriggerTestImages.Noise(1, 224, 224))[0].narrow(1, 0, 16).narrow(2, 0, 16);
        var expected = user.repeat_interleave(8, 1).repeat_interleave(8, 2);
        TensorAssert.Close(expected, patch, 0, "custom pattern");
    }

    [Fact]
    public void OnlyPatchChanges_OutputInRange_InputUntouched()
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Noise(4, 50, 70);
        var copy = images.clone();
        var output = new BadNetsTrigger(new BadNetsOptions { Pattern = PatchPattern.Noise(1) }).Apply(images, 11);
        TensorAssert.BitIdentical(copy, images, "input");
        Assert.True(output.min().item<float>() >= 0 && output.max().item<float>() <= 1);
        Assert.NotSame(images, output);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(225)]
    public void InvalidPatchSize_Throws(int size)
    {
        var ex = Assert.Throws<ArgumentException>(() => new BadNetsTrigger(new BadNetsOptions { PatchSize = size }));
        Assert.Equal("PatchSize", ex.ParamName);
        Assert.Contains(size.ToString(), ex.Message);
    }

    [Fact]
    public void FixedPositionOutsideImage_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.At(0, 209) }));
        Assert.Equal("X", ex.ParamName);
        Assert.Contains("209", ex.Message);
    }

    [Fact]
    public void InvalidCustomPattern_Throws()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => new BadNetsTrigger(new BadNetsOptions { Pattern = PatchPattern.FromImage(ones(1, 4, 4)) }));
        Assert.Contains("[1, 4, 4]", ex.Message);
        var range = Assert.Throws<ArgumentException>(() => new BadNetsTrigger(new BadNetsOptions { Pattern = PatchPattern.FromImage(ones(3, 4, 4).mul(2)) }));
        Assert.Contains("[0, 1]", range.Message);
        Assert.Throws<ArgumentException>(() => new BadNetsTrigger(new BadNetsOptions { Pattern = PatchPattern.Checkerboard(0) }));
    }
}
