using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>Perturbations and per-layer resistivity.</summary>
public sealed class PerturbationResistivityTests
{
    private sealed class Identity : IImagePerturbation
    {
        public string Name => "identity";
        public Tensor Apply(Tensor images, long seed) => images.clone();
    }

    private static ClipModel Tiny() => ClipModel.Create(new ClipConfig
    {
        EmbedDim = 32,
        Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 3, Heads = 2 },
        Text = new ClipTextConfig { ContextLength = 12, VocabSize = 600, Width = 32, Layers = 1, Heads = 2 },
    }, seed: 2);

    [Fact]
    public void IdentityIsFullyResistantAndPerturbationsAreNot()
    {
        using var clip = Tiny();
        var (images, labels) = ToyShapes.Make(3, 4);
        using var data = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var pr = PerturbationResistivity.Measure(PerturbationResistivity.Plain(clip), clip.ImageProcessor, data,
            new IImagePerturbation[] { new Identity(), Perturbations.HorizontalFlip(), Perturbations.ColorJitter(), Perturbations.GaussianBlur(3, 0.1, 2.0) });
        Assert.All(pr["identity"], v => Assert.Equal(1.0, v, 5));
        Assert.Equal(3, pr["identity"].Length);
        Assert.All(pr["horizontal flip"], v => Assert.True(v < 0.9999, $"flip must move the class token, got {v}"));
        Assert.Contains(pr["colour jitter (b=0.5, h=0.3)"], v => v < 0.9999);
    }

    [Fact]
    public void PromptedEncoderWithPromptsOffEqualsThePlainOne()
    {
        using var clip = Tiny();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Build();
        prompts.Enabled = false;
        using var scope = NewDisposeScope();
        var pixels = clip.ImageProcessor.Normalize(rand(2, 3, 32, 32, generator: new Generator(1, CPU)));
        using var noGrad = no_grad();
        TensorAssert.Close(PerturbationResistivity.Plain(clip)(pixels), PerturbationResistivity.Prompted(prompts)(pixels), 1e-6, "class tokens");
        prompts.Enabled = true;
        Assert.True(TensorAssert.MaxAbsDiff(PerturbationResistivity.Plain(clip)(pixels), PerturbationResistivity.Prompted(prompts)(pixels)) > 1e-4);
    }

    [Fact]
    public void HueShiftRotatesPrimariesAndNoiseIsSeeded()
    {
        using var scope = NewDisposeScope();
        var red = zeros(1, 3, 2, 2);
        red[0, 0] = tensor(1f);
        TensorAssert.Close(red, Perturbations.ShiftHue(red, 0), 1e-6, "no shift");
        var green = zeros(1, 3, 2, 2);
        green[0, 1] = tensor(1f);
        TensorAssert.Close(green, Perturbations.ShiftHue(red, 1.0 / 3), 1e-5, "red + 1/3 turn = green");
        var grey = full(new long[] { 1, 3, 2, 2 }, 0.5f);
        TensorAssert.Close(grey, Perturbations.ShiftHue(grey, 0.25), 1e-6, "grey has no hue");

        var noise = Perturbations.GaussianNoise();
        var x = full(new long[] { 2, 3, 8, 8 }, 0.5f);
        TensorAssert.BitIdentical(noise.Apply(x, 3), noise.Apply(x, 3), "same seed");
        Assert.InRange(TensorAssert.MaxAbsDiff(x, noise.Apply(x, 3)), 1e-5, 0.01);
        Assert.Throws<ArgumentException>(() => Perturbations.HorizontalFlip().Apply(zeros(3, 8, 8), 0));
    }
}
