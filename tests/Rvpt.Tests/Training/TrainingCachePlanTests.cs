using Microsoft.Extensions.Logging;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// The per-sample caches are on by default and kept within <see cref="TrainingOptions.CacheMemoryBudget"/>, frozen class
/// tokens first. Sizes on the fixture (3 blocks of width 128, 17 tokens, float32) with D = 2 and 12 samples:
/// frozen 12 x 1 x 128 x 4 = 6,144 bytes, trunk 12 x 17 x 128 x 4 = 104,448 bytes.
/// </summary>
public sealed class TrainingCachePlanTests
{
    private const long FrozenBytes = 12 * 1 * 128 * 4;
    private const long TrunkBytes = 12 * 17 * 128 * 4;
    private static readonly string[] Classes = FourClassImages.Classes;

    private static TensorDataset Data() => FourClassImages.Twelve(6);

    // 3 epochs over 12 samples, every sample every epoch: 12 images through a kept cache's branch, 36 through one left out.
    private static (TrainingSummary Summary, RecordingLogger Logger) Fit(Func<FewShotTrainerBuilder, FewShotTrainerBuilder> configure)
    {
        using var clip = new ClipModelBuilder()
            .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
            .WithTokenizerDirectory(Fixtures.ClipTiny).Build();
        using var data = Data();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(2).Tokens(4).Seed(2).Build();
        var logger = new RecordingLogger();
        var builder = FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(3).BatchSize(5).Warmup(0)
            .Augment(false).DropLast(false).Seed(4).WithLogger(logger);
        return (configure(builder).Build().Fit(data), logger);
    }

    [SkippableFact]
    public void ByDefaultBothCachesAreKeptWithoutAugmentation()
    {
        var (summary, _) = Fit(b => b);
        Assert.Equal(12, summary.FrozenImagesEncoded);
        Assert.Equal(12, summary.SharedTrunkImagesEncoded);
    }

    [SkippableFact]
    public void ABudgetJustBelowBothKeepsTheFrozenClassTokensAndSaysWhyTheTrunkIsLeftOut()
    {
        var (summary, logger) = Fit(b => b.CacheMemoryBudget(FrozenBytes + TrunkBytes - 1));
        Assert.Equal(12, summary.FrozenImagesEncoded);
        Assert.Equal(36, summary.SharedTrunkImagesEncoded);
        var message = Assert.Single(logger.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("CacheSharedTrunk", StringComparison.Ordinal)).Message;
        Assert.Contains("104,448 bytes", message, StringComparison.Ordinal);
        Assert.Contains("110,591", message, StringComparison.Ordinal); // the budget
    }

    [SkippableFact]
    public void TheFrozenClassTokensArePlannedFirst()
    {
        // Room for the trunk alone, but the frozen class tokens take their 6,144 bytes first.
        var (summary, _) = Fit(b => b.CacheMemoryBudget(TrunkBytes));
        Assert.Equal(12, summary.FrozenImagesEncoded);
        Assert.Equal(36, summary.SharedTrunkImagesEncoded);
    }

    [SkippableFact]
    public void ABudgetOfZeroKeepsNone()
    {
        var (summary, logger) = Fit(b => b.CacheMemoryBudget(0));
        Assert.Equal(36, summary.FrozenImagesEncoded);
        Assert.Equal(36, summary.SharedTrunkImagesEncoded);
        Assert.Equal(2, logger.Entries.Count(e => e.Level == LogLevel.Information && e.Message.Contains("CacheMemoryBudget", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void WithAugmentationNoCacheIsKeptAndNothingIsSaidAboveDebug()
    {
        var (summary, logger) = Fit(b => b.Augment(true));
        Assert.Equal(36, summary.FrozenImagesEncoded);
        Assert.Equal(36, summary.SharedTrunkImagesEncoded);
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Information && e.Message.Contains("has no effect", StringComparison.Ordinal));
    }

    [Fact]
    public void ANegativeBudgetIsRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { CacheMemoryBudget = -1 }.Validate());
        Assert.Equal(nameof(TrainingOptions.CacheMemoryBudget), e.ParamName);
    }
}
