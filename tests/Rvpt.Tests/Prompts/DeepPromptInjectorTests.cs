using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>Deep visual prompts: placement, freezing, sharing of the trunk and the switch-off path.</summary>
public sealed class DeepPromptInjectorTests
{
    [Fact]
    public void ViTB32DefaultsTrain345600Values()
    {
        using var clip = new ClipModel(ClipConfig.ViTB32); // placeholder weights: nothing is loaded
        using var prompts = DeepPromptInjector.For(clip).Build();
        Assert.Equal(3, prompts.UnpromptedDepth);
        Assert.Equal(Enumerable.Range(4, 9), prompts.PromptedBlocks);
        Assert.Equal(345_600, prompts.TrainableParameterCount);
        Assert.Equal(new long[] { 9, 50, 768 }, prompts.Prompts.shape);
        Assert.InRange(prompts.TrainableFraction, 0.00228, 0.00229); // 345,600 / 151,277,313
        Assert.Equal(new[] { "prompts" }, prompts.named_parameters().Select(p => p.name));
        Assert.Equal(new[] { "prompts" }, prompts.state_dict().Keys);
        Assert.All(clip.parameters(), p => Assert.False(p.requires_grad));
    }

    [SkippableFact]
    public void SwitchedOffItIsTheOriginalEncoder()
    {
        using var golden = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_golden.safetensors")).AsDisposable();
        using var clip = PromptTestModels.Fixture();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(8).Build();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = golden.Tensors["pixel_values"];
        prompts.Enabled = false;
        TensorAssert.Close(golden.Tensors["image_embeds"], prompts.EncodeImage(pixels), 1e-5, "image_embeds with prompts off");
        var trunk = prompts.RunSharedTrunk(pixels);
        var frozen = prompts.RunFrozen(trunk);
        TensorAssert.Close(golden.Tensors["vision_cls_layer_1"], frozen.select(1, 0), 5e-5, "frozen class token after block 2");
        TensorAssert.Close(golden.Tensors["vision_cls_layer_2"], frozen.select(1, 1), 5e-5, "frozen class token after block 3");
        prompts.Enabled = true;
        Assert.True(TensorAssert.MaxAbsDiff(golden.Tensors["image_embeds"], prompts.EncodeImage(pixels)) > 1e-3, "prompts on must change the features");
    }

    [SkippableTheory]
    [InlineData(1, 0)] // b = 0
    [InlineData(3, 8)] // D = L
    public void NoPromptTokensOrNoPromptedBlocksEqualsTheUnpromptedModel(int depth, int tokens)
    {
        using var clip = PromptTestModels.Fixture();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(depth).Tokens(tokens).Build();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = PromptTestModels.Pixels(3, 5);
        TensorAssert.Close(clip.EncodeImage(pixels), prompts.EncodeImage(pixels), 1e-6, "features");
        var trunk = prompts.RunSharedTrunk(pixels);
        var prompted = prompts.RunPrompted(trunk);
        TensorAssert.Close(prompts.RunFrozen(trunk), prompted.ClassTokens, 1e-6, "class tokens");
        Assert.Equal(3 - depth, prompted.ClassTokens.shape[1]);
    }

    [SkippableFact]
    public void PromptsAreReplacedAtEveryPromptedBlock()
    {
        using var clip = PromptTestModels.Fixture();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(6).Seed(3).Build();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = PromptTestModels.Pixels(2, 9);
        var actual = prompts.RunPrompted(prompts.RunSharedTrunk(pixels));
        var deep = PromptTestModels.ReferencePass(clip, prompts.Prompts, 1, pixels);
        var carried = PromptTestModels.ReferencePass(clip, prompts.Prompts, 1, pixels, carryOver: true);
        TensorAssert.Close(deep.Features, actual.ImageFeatures, 1e-5, "features vs a VPT-deep reference");
        TensorAssert.Close(deep.ClassTokens, actual.ClassTokens, 1e-5, "class tokens vs a VPT-deep reference");
        Assert.True(TensorAssert.MaxAbsDiff(carried.Features, actual.ImageFeatures) > 1e-3,
            "carrying prompt outputs over instead of replacing them must be observable");
    }

    [SkippableFact]
    public void SharedTrunkGivesTheSameLossAndGradientsAsTwoFullPasses()
    {
        using var clip = PromptTestModels.Fixture();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(5).Seed(11).Build();
        var loss = new RepulsiveLoss(alpha: 2);
        using var scope = NewDisposeScope();
        var pixels = PromptTestModels.Pixels(4, 21);
        var text = ClipModel.Normalize(randn(5, 32, generator: new Generator(4, CPU)));
        var labels = tensor(new long[] { 0, 3, 1, 4 });

        var trunk = prompts.RunSharedTrunk(pixels);
        var shared = loss.Compute(prompts.RunPrompted(trunk), prompts.RunFrozen(trunk), text, labels, clip.LogitScale);
        shared.Total.backward();
        var sharedGrad = prompts.Prompts.grad!.clone();
        prompts.Prompts.grad!.zero_();

        Tensor frozen;
        using (no_grad())
        using (var vision = clip.EncodeImageWithHiddenStates(pixels))
            frozen = stack(vision.ClassTokens.Skip(1).Select(t => t.clone()).ToArray(), 1);
        var full = PromptTestModels.ReferencePass(clip, prompts.Prompts, 1, pixels);
        var separate = loss.Compute(new PromptedOutput(full.Features, full.ClassTokens), frozen, text, labels, clip.LogitScale);
        separate.Total.backward();

        Assert.Equal(separate.Total.item<float>(), shared.Total.item<float>(), 5);
        TensorAssert.Close(prompts.Prompts.grad!, sharedGrad, 1e-6, "prompt gradients");
        Assert.True(sharedGrad.abs().sum().item<float>() > 0);
    }

    [SkippableFact]
    public void OnlyPromptsTrainAndClipWeightsStayBitIdentical()
    {
        using var clip = PromptTestModels.Fixture();
        var before = ClipWeightsFingerprint.Compute(clip);
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Build();
        var optimizer = TorchSharp.torch.optim.SGD(prompts.parameters(), 0.5, momentum: 0.9);
        var loss = new RepulsiveLoss(2);
        var text = ClipModel.Normalize(randn(5, 32, generator: new Generator(4, CPU)));
        var firstPrompts = prompts.Prompts.detach().clone();
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var pixels = PromptTestModels.Pixels(4, step);
            var trunk = prompts.RunSharedTrunk(pixels);
            var result = loss.Compute(prompts.RunPrompted(trunk), prompts.RunFrozen(trunk), text, tensor(new long[] { 0, 1, 2, 3 }), clip.LogitScale);
            result.Total.backward();
            Assert.All(clip.parameters(), p => Assert.Null(p.grad));
            optimizer.step();
        }
        Assert.Equal(before, ClipWeightsFingerprint.Compute(clip));
        Assert.True(TensorAssert.MaxAbsDiff(firstPrompts, prompts.Prompts) > 0, "prompts must change");
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        using var clip = new ClipModel(ClipConfig.ViTB32 with { Text = ClipConfig.ViTB32.Text with { VocabSize = 10 } });
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepPromptInjector.For(clip).FromBlock(13).Build());
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepPromptInjector.For(clip).Blocks(0, 4).Build());
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepPromptInjector.For(clip).Tokens(-1).Build());
        Assert.Throws<ArgumentOutOfRangeException>(() => DeepPromptInjector.For(clip).Dropout(1.0).Build());
        using var custom = DeepPromptInjector.For(clip).Blocks(12, 5, 5).Tokens(2).Init(PromptInit.XavierUniform).Build();
        Assert.Equal(new[] { 5, 12 }, custom.PromptedBlocks);
        Assert.Equal(4, custom.UnpromptedDepth);
        double v = Math.Sqrt(6.0 / (3 * 32 * 32 + 768));
        Assert.True(custom.Prompts.abs().max().item<float>() <= v);
    }
}
