using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The shared-trunk cache: bit-identical training results, and the trunk runs once per sample.</summary>
public sealed class SharedTrunkCacheTests
{
    private static readonly string[] Classes = FourClassImages.Classes;

    private static TensorDataset Data() => FourClassImages.Twelve(6);

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void CachedTrainingEqualsUncachedBitForBitAndRunsTheTrunkOncePerSample(bool bfloat16)
    {
        using var clip = new ClipModelBuilder()
            .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
            .WithTokenizerDirectory(Fixtures.ClipTiny).Build();
        using var data = Data();

        (Tensor Prompts, TrainingSummary Summary) Run(bool trunk, bool frozen)
        {
            // D = 2 of the fixture's 3 blocks, so the trunk is two blocks; prompt dropout, so the masks' seeding matters too.
            using var prompts = DeepPromptInjector.For(clip).FromBlock(2).Tokens(4).Dropout(0.1).Seed(2).Build();
            var builder = FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(3).BatchSize(5).Sgd(learningRate: 0.05)
                .Warmup(1, 1e-3).Augment(false).CacheSharedTrunk(trunk).CacheFrozenClassTokens(frozen).Seed(4)
                .DropLast(false); // every sample in every epoch (12 is not a multiple of 5), so the counts below are exact
            if (bfloat16) builder.MixedPrecision();
            var summary = builder.Build().Fit(data);
            return (prompts.Prompts.detach().clone(), summary);
        }

        var (plain, plainSummary) = Run(trunk: false, frozen: false);
        var (trunkOnly, trunkSummary) = Run(trunk: true, frozen: false);
        var (both, bothSummary) = Run(trunk: true, frozen: true);
        using (plain)
        using (trunkOnly)
        using (both)
        {
            // A trunk row depends only on its own image, whichever batch it ran in, and is stored as computed.
            TensorAssert.BitIdentical(plain, trunkOnly, "prompts trained with and without the trunk cache");
            TensorAssert.BitIdentical(plain, both, "prompts trained with and without both caches");
        }
        Assert.Equal(plainSummary.FinalLoss, trunkSummary.FinalLoss);
        Assert.Equal(plainSummary.FinalLoss, bothSummary.FinalLoss);
        Assert.Equal(3 * 12, plainSummary.SharedTrunkImagesEncoded); // every image of every step
        Assert.Equal(12, trunkSummary.SharedTrunkImagesEncoded);     // each sample once, in the first epoch
        Assert.Equal(3 * 12, trunkSummary.FrozenImagesEncoded);      // the frozen branch still runs, from the cached trunk
        Assert.Equal(12, bothSummary.SharedTrunkImagesEncoded);
        Assert.Equal(12, bothSummary.FrozenImagesEncoded);
    }

    [SkippableFact]
    public void WithAugmentationTheTrunkCacheIsNotUsed()
    {
        using var clip = new ClipModelBuilder()
            .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
            .WithTokenizerDirectory(Fixtures.ClipTiny).Build();
        using var data = Data();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(2).Tokens(4).Seed(2).Build();
        var logger = new RecordingLogger();
        var summary = FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(2).BatchSize(6).Warmup(0)
            .Augment(true).CacheSharedTrunk().WithLogger(logger).Build().Fit(data);
        Assert.Equal(2 * 12, summary.SharedTrunkImagesEncoded);
        Assert.Contains(logger.Entries, e => e.Message.Contains("CacheSharedTrunk has no effect", StringComparison.Ordinal));
    }

    [Fact]
    public void HoldsTheRowsAsComputedAndReportsItsSize()
    {
        using var cache = new SharedTrunkCache(5);
        using var scope = NewDisposeScope();
        Assert.Equal(0, cache.Bytes);
        var rows = randn(new long[] { 2, 7, 3 }).to_type(ScalarType.BFloat16);
        cache.GetOrCompute(new[] { 3, 0 }, () => rows);
        Assert.Equal(5 * 7 * 3 * 2, cache.Bytes); // the whole cache, allocated at the first store, in the rows' dtype
        var hit = cache.GetOrCompute(new[] { 0, 3 }, () => throw new InvalidOperationException("must not run"));
        TensorAssert.BitIdentical(rows.index_select(0, tensor(new long[] { 1, 0 })), hit, "gathered rows");
        var error = Assert.Throws<ArgumentException>(() => cache.GetOrCompute(new[] { 1 }, () => zeros(1, 7, 3)));
        Assert.Contains("shared trunk", error.Message, StringComparison.Ordinal);
        Assert.Equal("runTrunk", error.ParamName);
    }
}
