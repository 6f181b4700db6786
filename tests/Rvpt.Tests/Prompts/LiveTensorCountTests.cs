using Rvpt.Clip;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>One RVPT step in a dispose scope leaves no tensors behind (native memory would otherwise grow per step).</summary>
public sealed class LiveTensorCountTests
{
    [Fact]
    public void LiveTensorCountIsConstantAcrossSteps()
    {
        using var clip = ClipModel.Create(new ClipConfig
        {
            EmbedDim = 32,
            Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 3, Heads = 2 },
            Text = new ClipTextConfig { ContextLength = 12, VocabSize = 600, Width = 32, Layers = 1, Heads = 2 },
        }, seed: 1);
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(8).Build();
        using var optimizer = new PromptSgd(prompts.Prompts, momentum: 0.9, weightDecay: 5e-4);
        var loss = RepulsiveLoss.WithAlpha(2);
        using var text = ClipModel.Normalize(randn(5, 32, generator: new Generator(4, CPU)));
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        var g = new Generator(9, CPU);

        void Step()
        {
            using var scope = NewDisposeScope();
            var images = randn(new long[] { 4, 3, 32, 32 }, generator: g);
            var trunk = prompts.RunSharedTrunk(images);
            var result = loss.Compute(prompts.RunPrompted(trunk), prompts.RunFrozen(trunk), text, labels, clip.LogitScale);
            optimizer.ZeroGrad();
            result.Total.backward();
            optimizer.Step(0.01);
        }

        for (int i = 0; i < 3; i++) Step(); // the gradient and momentum buffer exist from here on
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Step();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
