using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>SIG: the sinusoid formula and clamping.</summary>
public sealed class SigTriggerTests
{
    [Theory]
    [InlineData(224, 224, 20.0 / 255, 6)]
    [InlineData(16, 37, 0.1, 3)]
    [InlineData(64, 64, 0.05, 2.5)]
    public void MidGrey_GetsExactlyTheSinusoid(long h, long w, double delta, double f)
    {
        using var scope = NewDisposeScope();
        var images = full(new[] { 2L, 3, h, w }, 0.5f);
        var output = new SigTrigger(new SigOptions { Delta = delta, Frequency = f }).Apply(images);
        var expected = new float[w];
        for (var j = 0; j < w; j++) expected[j] = (float)(0.5 + delta * Math.Sin(2 * Math.PI * j * f / w));
        TensorAssert.Close(tensor(expected).view(1, 1, 1, w).expand(2, 3, h, w), output, 1e-6, "SIG on mid-grey");
    }

    [Fact]
    public void Defaults_AreBarniValues()
    {
        var options = new SigOptions();
        Assert.Equal(20.0 / 255, options.Delta, 12);
        Assert.Equal(6, options.Frequency);
    }

    [Fact]
    public void Output_IsClampedToZeroOne()
    {
        using var scope = NewDisposeScope();
        var trigger = new SigTrigger(new SigOptions { Delta = 0.3 });
        var white = trigger.Apply(ones(1, 3, 8, 32));
        var black = trigger.Apply(zeros(1, 3, 8, 32));
        Assert.Equal(1f, white.max().item<float>());
        Assert.True(white.min().item<float>() < 0.8f);
        Assert.Equal(0f, black.min().item<float>());
        Assert.True(black.max().item<float>() > 0.2f);
    }

    [Theory]
    [InlineData(-0.1, 6)]
    [InlineData(0.1, 0)]
    [InlineData(0.1, double.PositiveInfinity)]
    public void InvalidOptions_Throw(double delta, double frequency)
    {
        var ex = Assert.Throws<ArgumentException>(() => new SigTrigger(new SigOptions { Delta = delta, Frequency = frequency }));
        Assert.Equal(delta < 0 ? "Delta" : "Frequency", ex.ParamName);
    }
}
