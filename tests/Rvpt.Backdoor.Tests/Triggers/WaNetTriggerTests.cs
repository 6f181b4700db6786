using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>WaNet: identity at zero strength, the grid formula, determinism.</summary>
public sealed class WaNetTriggerTests
{
    [Theory]
    [InlineData(224, 224)]
    [InlineData(32, 32)]
    [InlineData(100, 60)]
    public void ZeroStrength_IsIdentity(long h, long w)
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Noise(2, h, w);
        var output = new WaNetTrigger(new WaNetOptions { Strength = 0 }).Apply(images);
        TensorAssert.Close(images, output, 1e-5, "s = 0");
    }

    [Theory]
    [InlineData(224, 224, 4, 0.5)]
    [InlineData(32, 32, 4, 0.5)]
    [InlineData(100, 60, 4, 0.5)]
    [InlineData(224, 224, 224, 1.0)]
    public void SmallStrength_ChangesTheImageSlightly(long h, long w, int k, double s)
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Smooth(2, h, w);
        var output = new WaNetTrigger(new WaNetOptions { GridSize = k, Strength = s }).Apply(images);
        var diff = output.sub(images).abs();
        Assert.True(diff.max().item<float>() > 1e-4f, "warp did not change the image");
        Assert.True(diff.mean().item<float>() < 0.02f, $"warp moved pixels too far: mean |diff| {diff.mean().item<float>()}");
        Assert.True(output.min().item<float>() >= 0 && output.max().item<float>() <= 1);
    }

    [Fact]
    public void Field_IsDeterministic_SameForEveryRow_AndSeeded()
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Noise(1, 48, 48).expand(3, 3, 48, 48).contiguous();
        var a = new WaNetTrigger().Apply(images, seed: 1);
        var b = new WaNetTrigger().Apply(images, seed: 2);
        var c = new WaNetTrigger(new WaNetOptions { FieldSeed = 1 }).Apply(images);
        TensorAssert.BitIdentical(a, b, "same field, other Apply seed");
        TensorAssert.BitIdentical(a[0], a[2], "identical rows warp identically");
        Assert.True(TensorAssert.MaxAbsDiff(a, c) > 1e-3, "FieldSeed did not change the field");
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(10, 7)]
    [InlineData(7, 13)]
    public void Grid_MatchesTheWaNetFormula_AtControlPoints(long h, long w)
    {
        using var scope = NewDisposeScope();
        // With align_corners, a 4 x 4 control grid upsampled to (3m + 1) pixels passes exactly through pixels 0, m, 2m, 3m.
        const double s = 0.8;
        var trigger = new WaNetTrigger(new WaNetOptions { GridSize = 4, Strength = s, FieldSeed = 42 });
        var grid = trigger.Grid(h, w, CPU, ScalarType.Float64)[0];
        var control = TriggerRandom.CpuUniform(42, 1, 2, 4, 4).mul(2).sub(1).to_type(ScalarType.Float64);
        control = control.div(control.abs().mean())[0];
        for (var a = 0; a < 4; a++)
        for (var b = 0; b < 4; b++)
        {
            long y = (h - 1) / 3 * a, x = (w - 1) / 3 * b;
            // WaNet divides the offsets of both axes by the image height.
            var ex = -1 + 2.0 * x / (w - 1) + s * control[0, a, b].item<double>() / h;
            var ey = -1 + 2.0 * y / (h - 1) + s * control[1, a, b].item<double>() / h;
            Assert.Equal(Math.Clamp(ex, -1, 1), grid[y, x, 0].item<double>(), 9);
            Assert.Equal(Math.Clamp(ey, -1, 1), grid[y, x, 1].item<double>(), 9);
        }
        Assert.True(grid.abs().max().item<double>() <= 1);
    }

    [Fact]
    public void ZeroStrengthGrid_IsTheIdentity()
    {
        using var scope = NewDisposeScope();
        var grid = new WaNetTrigger(new WaNetOptions { Strength = 0 }).Grid(5, 3, CPU, ScalarType.Float32)[0];
        Assert.Equal(new long[] { 5, 3, 2 }, grid.shape);
        Assert.Equal(-1f, grid[0, 0, 0].item<float>());
        Assert.Equal(1f, grid[0, 2, 0].item<float>());
        Assert.Equal(0f, grid[2, 1, 1].item<float>());
        Assert.Equal(1f, grid[4, 0, 1].item<float>());
    }

    [Theory]
    [InlineData(0, 0.5, "GridSize")]
    [InlineData(4, -1, "Strength")]
    [InlineData(4, double.NaN, "Strength")]
    public void InvalidOptions_Throw(int k, double s, string param)
    {
        var ex = Assert.Throws<ArgumentException>(() => new WaNetTrigger(new WaNetOptions { GridSize = k, Strength = s }));
        Assert.Equal(param, ex.ParamName);
    }
}
