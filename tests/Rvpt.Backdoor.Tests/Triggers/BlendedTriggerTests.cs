using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>Blended: the exact blend, a fixed pattern, user patterns.</summary>
public sealed class BlendedTriggerTests
{
    // Rvpt's earlier default: one fixed noise pattern.
    private static readonly BlendedOptions Fixed = new() { Noise = BlendedNoise.Fixed };

    [Theory]
    [InlineData(224, 224)]
    [InlineData(32, 48)]
    public void EveryPixel_IsTheBlend(long h, long w)
    {
        using var scope = NewDisposeScope();
        var trigger = new BlendedTrigger(Fixed);
        var images = TriggerTestImages.Noise(3, h, w);
        var output = trigger.Apply(images);
        var pattern = trigger.Pattern(h, w, CPU, ScalarType.Float32);
        TensorAssert.Close(images.mul(0.8).add(pattern.unsqueeze(0).mul(0.2)), output, 1e-6, "blend");
        Assert.True(pattern.min().item<float>() >= 0 && pattern.max().item<float>() <= 1);
        Assert.True(pattern.std().item<float>() > 0.2f, "default pattern is not noise");
    }

    [Fact]
    public void Pattern_IsTheSameForEveryRowAndCall_AndDependsOnPatternSeed()
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Noise(3, 40, 40);
        // Recover each row's pattern from the output: p = (out - (1 - a) x) / a.
        Tensor Recovered(BlendedTrigger t, long seed) => t.Apply(images, seed).sub(images.mul(0.8)).div(0.2);
        var a = Recovered(new BlendedTrigger(Fixed), 0);
        var b = Recovered(new BlendedTrigger(Fixed), 12345);
        var c = Recovered(new BlendedTrigger(Fixed with { PatternSeed = 1 }), 0);
        TensorAssert.Close(a[0], a[1], 1e-5, "row 0 vs 1");
        TensorAssert.Close(a[0], a[2], 1e-5, "row 0 vs 2");
        TensorAssert.Close(a, b, 1e-5, "another Apply seed");
        Assert.True(TensorAssert.MaxAbsDiff(a, c) > 0.1, "PatternSeed did not change the pattern");
    }

    [Fact]
    public void UserPattern_IsUsed_AndResized()
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Noise(2, 30, 20);
        var constant = full(new long[] { 3, 4, 4 }, 0.7f);
        var output = new BlendedTrigger(new BlendedOptions { Pattern = constant, Alpha = 0.5 }).Apply(images);
        TensorAssert.Close(images.mul(0.5).add(0.35), output, 1e-6, "constant user pattern");

        // A same-size pattern is used as is.
        var user = TriggerTestImages.Noise(1, 30, 20, seed: 9)[0];
        var same = new BlendedTrigger(new BlendedOptions { Pattern = user }).Apply(images);
        TensorAssert.Close(images.mul(0.8).add(user.unsqueeze(0).mul(0.2)), same, 1e-6, "same-size user pattern");
    }

    [Fact]
    public void Float64_IsPreservedAndExact()
    {
        using var scope = NewDisposeScope();
        var trigger = new BlendedTrigger(Fixed with { Alpha = 0.3 });
        var images = TriggerTestImages.Noise(2, 16, 16, dtype: ScalarType.Float64);
        var output = trigger.Apply(images);
        Assert.Equal(ScalarType.Float64, output.dtype);
        var pattern = trigger.Pattern(16, 16, CPU, ScalarType.Float64);
        TensorAssert.Close(images.mul(0.7).add(pattern.mul(0.3)), output, 1e-12, "float64 blend");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void InvalidAlpha_Throws(double alpha)
    {
        var ex = Assert.Throws<ArgumentException>(() => new BlendedTrigger(new BlendedOptions { Alpha = alpha }));
        Assert.Equal("Alpha", ex.ParamName);
    }

    [Fact]
    public void InvalidUserPattern_Throws()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => new BlendedTrigger(new BlendedOptions { Pattern = ones(4, 4) }));
        Assert.Equal("Pattern", ex.ParamName);
        Assert.Contains("[4, 4]", ex.Message);
    }
}
