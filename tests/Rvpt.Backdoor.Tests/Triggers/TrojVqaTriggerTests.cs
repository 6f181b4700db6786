using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>TrojVQA: the centre patch and the text key.</summary>
public sealed class TrojVqaTriggerTests
{
    [Theory]
    [InlineData(224, 224, 104, 104, 16)]
    [InlineData(32, 32, 15, 15, 2)]
    [InlineData(100, 100, 46, 46, 7)]
    [InlineData(60, 90, 28, 43, 4)]
    public void OnlyTheCentrePatchChanges(long h, long w, long y, long x, long side)
    {
        using var scope = NewDisposeScope();
        var trigger = new TrojVqaTrigger();
        var images = TriggerTestImages.Noise(3, h, w);
        var output = trigger.Apply(images, seed: 5);
        var changed = TriggerTestImages.ChangedMask(images, output);
        var expected = TriggerTestImages.Square(h, w, y, x, side);
        for (long i = 0; i < 3; i++)
            Assert.True(TriggerTestImages.SameMask(expected, changed[i]), $"row {i}");
        Assert.Equal((y, x, side), trigger.PatchRegion(h, w));
    }

    [Fact]
    public void TextKeyAndName_AreSet()
    {
        var trigger = new TrojVqaTrigger();
        Assert.Equal("remember ", trigger.TextKey); // BadCLIP's backdoor/create_backdoor_data.py and src/evaluate.py
        Assert.Equal("TrojVQA", trigger.Name);
        Assert.Equal("cf ", new TrojVqaTrigger(new TrojVqaOptions { TextKey = "cf " }).TextKey);
        Assert.Null(new BadNetsTrigger().TextKey);
    }

    [Fact]
    public void DefaultPattern_IsFixedSeededNoise()
    {
        using var scope = NewDisposeScope();
        var images = TriggerTestImages.Noise(2, 224, 224);
        var a = new TrojVqaTrigger().Apply(images, 1).narrow(2, 104, 16).narrow(3, 104, 16);
        var b = new TrojVqaTrigger().Apply(images, 2).narrow(2, 104, 16).narrow(3, 104, 16);
        TensorAssert.BitIdentical(a, b, "same trigger, other Apply seed");
        TensorAssert.BitIdentical(a[0], a[1], "rows");
        Assert.True(a.std().item<float>() > 0.2f);
    }

    [Fact]
    public void PatternOption_IsUsed()
    {
        using var scope = NewDisposeScope();
        var output = new TrojVqaTrigger(new TrojVqaOptions { Pattern = PatchPattern.White() }).Apply(TriggerTestImages.Noise(1, 224, 224));
        Assert.True(output.narrow(2, 104, 16).narrow(3, 104, 16).eq(1).all().item<bool>());
    }

    [Fact]
    public void InvalidOptions_Throw()
    {
        Assert.Equal("TextKey", Assert.Throws<ArgumentException>(() => new TrojVqaTrigger(new TrojVqaOptions { TextKey = "" })).ParamName);
        Assert.Equal("PatchSize", Assert.Throws<ArgumentException>(() => new TrojVqaTrigger(new TrojVqaOptions { PatchSize = 0 })).ParamName);
    }
}
