using Rvpt.Clip;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// One RVPT step in a dispose scope leaves no tensors behind (native memory would otherwise grow per step), also with
/// bfloat16 compute and with the frozen-branch cache.
/// </summary>
public sealed class LiveTensorCountTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void LiveTensorCountIsConstantAcrossSteps(bool bfloat16, bool cacheFrozen)
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
        using var cache = cacheFrozen ? new FrozenClassTokenCache(8) : null;
        if (bfloat16) prompts.SetComputeDType(ScalarType.BFloat16);
        var g = new Generator(9, CPU);
        int step = 0;

        void Step()
        {
            using var scope = NewDisposeScope();
            var images = randn(new long[] { 4, 3, 32, 32 }, generator: g);
            var trunk = prompts.RunSharedTrunk(images);
            var indices = Enumerable.Range(4 * (step++ % 2), 4).ToArray(); // two batches of samples, alternating
            var frozen = cache is null ? prompts.RunFrozen(trunk) : cache.GetOrCompute(indices, () => prompts.RunFrozen(trunk));
            var result = loss.Compute(prompts.RunPrompted(trunk), frozen, text, labels, clip.LogitScale);
            optimizer.ZeroGrad();
            result.Total.backward();
            optimizer.Step(0.01);
        }

        for (int i = 0; i < 3; i++) Step(); // the gradient and momentum buffer exist from here on
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Step();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        if (cache is not null) Assert.Equal(8, cache.ImagesEncoded); // filled in the first two steps only
    }
}
