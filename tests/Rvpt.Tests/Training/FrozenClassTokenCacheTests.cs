using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The frozen-branch cache: same training results, and the frozen branch runs once per sample.</summary>
public sealed class FrozenClassTokenCacheTests
{
    private static readonly string[] Classes = FourClassImages.Classes;

    private static TensorDataset Data() => FourClassImages.Twelve(5);

    [SkippableFact]
    public void CachedTrainingEqualsUncachedAndRunsTheFrozenBranchOncePerSample()
    {
        using var clip = new ClipModelBuilder()
            .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
            .WithTokenizerDirectory(Fixtures.ClipTiny).Build();
        using var data = Data();

        (Tensor Prompts, TrainingSummary Summary) Run(bool cache)
        {
            using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(2).Build();
            var summary = FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(3).BatchSize(5).Sgd(learningRate: 0.05)
                .Warmup(1, 1e-3).Augment(false).DropLast(false).CacheFrozenClassTokens(cache).Seed(4).Build().Fit(data); // every image every epoch
            return (prompts.Prompts.detach().clone(), summary);
        }

        var (plain, plainSummary) = Run(cache: false);
        var (cached, cachedSummary) = Run(cache: true);
        using (plain)
        using (cached)
        {
            // Bit-identical: a frozen class token depends only on its own image, whichever batch it ran in.
            TensorAssert.BitIdentical(plain, cached, "prompts trained with and without the frozen-branch cache");
        }
        Assert.Equal(plainSummary.FinalLoss, cachedSummary.FinalLoss);
        Assert.Equal(3 * 12, plainSummary.FrozenImagesEncoded); // every image of every step
        Assert.Equal(12, cachedSummary.FrozenImagesEncoded);    // each sample once, in the first epoch
    }

    [Fact]
    public void MissesRunTheBranchAndStoreRowsHitsGatherThem()
    {
        using var cache = new FrozenClassTokenCache(6);
        using var scope = NewDisposeScope();
        int runs = 0;
        Tensor Rows(params int[] indices)
        {
            runs++;
            // Row i holds the value i everywhere: [n, 2 blocks, 3 width].
            return tensor(indices.Select(i => (float)i).ToArray()).view(-1, 1, 1).expand(-1, 2, 3).contiguous();
        }

        var first = cache.GetOrCompute(new[] { 4, 1, 3 }, () => Rows(4, 1, 3));
        Assert.Equal(1, runs);
        Assert.Equal(3, cache.CachedSamples);
        var mixed = cache.GetOrCompute(new[] { 1, 5 }, () => Rows(1, 5)); // 5 is not cached: the branch runs
        Assert.Equal(2, runs);
        Assert.Equal(4, cache.CachedSamples);
        Assert.Equal(5, cache.ImagesEncoded);

        var hit = cache.GetOrCompute(new[] { 5, 3, 1, 4 }, () => throw new InvalidOperationException("must not run"));
        Assert.Equal(2, runs);
        TensorAssert.BitIdentical(Rows(5, 3, 1, 4), hit, "gathered rows");
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.GetOrCompute(new[] { 6 }, () => Rows(6)));
        Assert.Throws<ArgumentException>(() => cache.GetOrCompute(new[] { 0 }, () => zeros(1, 2, 4)));
        Assert.Equal(new long[] { 3, 2, 3 }, first.shape);
        Assert.Equal(new long[] { 2, 2, 3 }, mixed.shape);
    }

    [Fact]
    public void OptionsRejectANonFloatingComputeDType()
    {
        new TrainingOptions { CacheFrozenClassTokens = true, ComputeDType = ScalarType.BFloat16 }.Validate(); // accepted
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { ComputeDType = ScalarType.Int32 }.Validate());
    }
}
