using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// Prompts are for inference unless a trainer says otherwise (eval mode at creation and after loading), and prompt
/// dropout draws a mask per sample, as VPT's nn.Dropout on the batch-expanded prompts does.
/// </summary>
public sealed class PromptModeAndDropoutTests
{
    private static ClipModel Tiny() => ClipModel.Create(new ClipConfig
    {
        EmbedDim = 16,
        Vision = new ClipVisionConfig { ImageSize = 16, PatchSize = 8, Width = 32, Layers = 2, Heads = 2 },
        Text = new ClipTextConfig { ContextLength = 8, VocabSize = 40, Width = 32, Layers = 1, Heads = 2 },
    }, seed: 3);

    private static Tensor Pixels(int n, long seed) => randn(new long[] { n, 3, 16, 16 }, generator: new Generator((ulong)seed, CPU));

    [Fact]
    public void AnInjectorStartsInEvalModeSoDropoutIsOffAtInference()
    {
        using var clip = Tiny();
        using var withDropout = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Dropout(0.5).Seed(2).Build();
        using var without = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(2).Build();
        Assert.False(withDropout.training);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = Pixels(3, 1);
        TensorAssert.BitIdentical(without.EncodeImage(pixels), withDropout.EncodeImage(pixels), "features right after Build()");

        using var temp = new TempDirectory();
        withDropout.Save(temp.File("p.safetensors"));
        using var loaded = DeepPromptInjector.Load(temp.File("p.safetensors"), clip);
        Assert.Equal(0.5, loaded.Options.Dropout);
        Assert.False(loaded.training);
        TensorAssert.BitIdentical(without.EncodeImage(pixels), loaded.EncodeImage(pixels), "features right after Load()");
    }

    [Fact]
    public void DropoutDrawsAMaskForEverySample()
    {
        using var clip = Tiny();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Dropout(0.5).Seed(2).Build();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var one = Pixels(1, 4);
        var twice = cat(new[] { one, one }, 0); // the same image twice in one batch
        prompts.train();
        prompts.SeedDropout(9);
        var features = prompts.EncodeImage(twice);
        Assert.True(TensorAssert.MaxAbsDiff(features[0], features[1]) > 1e-4, "both samples got the same dropout mask");
        prompts.eval();
        var plain = prompts.EncodeImage(twice);
        TensorAssert.Close(plain[0], plain[1], 1e-6, "no dropout in eval mode: the same image gives the same features");
    }

    [SkippableFact]
    public void WithoutDropoutTrainingModeComputesExactlyThePlainPromptedPass()
    {
        // FewShotTrainer runs the injector in training mode; with dropout 0 that must be bit for bit the pass of an
        // independently written VPT-deep reference (PromptTestModels.ReferencePass), so runs without dropout are
        // unchanged by the dropout and mode handling.
        using var clip = PromptTestModels.Fixture();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(6).Seed(3).Build();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = PromptTestModels.Pixels(2, 9);
        prompts.train();
        var training = prompts.RunPrompted(prompts.RunSharedTrunk(pixels));
        prompts.eval();
        var inference = prompts.RunPrompted(prompts.RunSharedTrunk(pixels));
        var reference = PromptTestModels.ReferencePass(clip, prompts.Prompts, 1, pixels);
        TensorAssert.BitIdentical(inference.ImageFeatures, training.ImageFeatures, "train vs eval mode, dropout 0");
        TensorAssert.BitIdentical(reference.Features, training.ImageFeatures, "training mode vs the reference pass");
        TensorAssert.BitIdentical(reference.ClassTokens, training.ClassTokens, "class tokens vs the reference pass");
    }
}
