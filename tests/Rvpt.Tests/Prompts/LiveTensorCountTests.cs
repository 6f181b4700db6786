using Rvpt.Clip;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// The trainer's step (<see cref="RvptStep"/>) in its dispose scope leaves no tensors behind (native memory would
/// otherwise grow per step), also with bfloat16 compute, with the frozen-branch and shared-trunk caches and with the
/// fast blocks (the class-token-only last block, the prompts' outputs skipped).
/// </summary>
public sealed class LiveTensorCountTests
{
    [Theory]
    [InlineData(false, false, false, false, false)]
    [InlineData(true, false, false, false, false)]
    [InlineData(false, true, false, false, false)]
    [InlineData(true, true, true, false, false)]
    [InlineData(false, false, true, true, false)]
    [InlineData(true, true, true, true, false)]
    [InlineData(false, false, false, true, true)]
    [InlineData(true, true, true, true, true)]
    public void LiveTensorCountIsConstantAcrossSteps(bool bfloat16, bool cacheFrozen, bool cacheTrunk, bool classTokenOnlyLastBlock, bool skipPromptOutputs)
    {
        using var clip = ClipModel.Create(new ClipConfig
        {
            EmbedDim = 32,
            Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 3, Heads = 2 },
            Text = new ClipTextConfig { ContextLength = 12, VocabSize = 600, Width = 32, Layers = 1, Heads = 2 },
        }, seed: 1);
        using var prompts = DeepPromptInjector.For(clip).FromBlock(2).Tokens(8).Dropout(0.1).Build();
        prompts.ClassTokenOnlyLastBlock = classTokenOnlyLastBlock;
        prompts.SkipReplacedPromptOutputs = skipPromptOutputs;
        using var optimizer = new PromptSgd(prompts.Prompts, momentum: 0.9, weightDecay: 5e-4);
        using var text = ClipModel.Normalize(randn(5, 32, generator: new Generator(4, CPU)));
        using var frozenCache = cacheFrozen ? new FrozenClassTokenCache(8) : null;
        using var trunkCache = cacheTrunk ? new SharedTrunkCache(8) : null;
        if (bfloat16) prompts.SetComputeDType(ScalarType.BFloat16);
        prompts.train();
        var step = new RvptStep(prompts, new RepulsiveLoss(2), text, optimizer, seed: 1, trunkCache, frozenCache,
            i => $"item {i}", () => "No checkpoint folder was set.");
        var g = new Generator(9, CPU);
        int steps = 0;

        void Step()
        {
            int first = 4 * (steps % 2); // two batches of samples, alternating
            using var batch = new ImageBatch(randn(new long[] { 4, 3, 32, 32 }, generator: g).DetachFromDisposeScope(),
                tensor(new long[] { 0, 1, 2, 3 }).DetachFromDisposeScope(), Enumerable.Range(first, 4).ToArray());
            var result = step.Run(batch, epoch: 0, step: steps++, learningRate: 0.01);
            Assert.True(double.IsFinite(result.Loss));
        }

        for (int i = 0; i < 3; i++) Step(); // the gradient, the momentum buffer and the caches exist from here on
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Step();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        if (frozenCache is not null) Assert.Equal(8, frozenCache.ImagesEncoded); // filled in the first two steps only
        if (trunkCache is not null) Assert.Equal(8, trunkCache.ImagesEncoded);
    }
}
