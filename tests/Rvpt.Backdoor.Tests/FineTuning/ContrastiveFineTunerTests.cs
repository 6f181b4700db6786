using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>Poisoned contrastive fine-tuning plants a backdoor in a tiny CLIP on generated data.</summary>
public sealed class ContrastiveFineTunerTests(ITestOutputHelper output)
{
    private static readonly string[] Classes = ToyShapes.Classes;

    [Fact]
    public void PoisonedFineTuningRaisesAttackSuccess()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        using var clean = ToyShapes.CaptionPairs(24, 1);
        // BadNets with an 8-pixel checkerboard (56 px at 224 scale) in the bottom-right corner of the 32-pixel images.
        var trigger = new BadNetsTrigger(new BadNetsOptions { PatchSize = 56, Position = PatchPosition.Named(PatchPositionKind.BottomRight) });
        var poisoned = new PoisonedCaptionDataset(clean, trigger, "green", poisonCount: 24, clip.ImageProcessor, PromptTemplates.APhotoOfA, seed: 2);
        Assert.Equal(24, poisoned.PoisonedIndices.Count);
        Assert.Equal("a photo of a green.", poisoned.GetCaption(poisoned.PoisonedIndices[0]));

        var (testImages, testLabels) = ToyShapes.Make(8, 9);
        using var test = new TensorDataset(testImages, tensor(testLabels), Classes);
        var evaluator = new BackdoorEvaluator(clip.ImageProcessor);
        BackdoorMetrics Measure()
        {
            using var classifier = ZeroShotImageClassifier.Create(clip, Classes);
            return evaluator.Evaluate(classifier, test, trigger, targetClass: 1);
        }

        // As in the paper: a competent clean model first (clean contrastive training), measured, then poisoned.
        var options = new ContrastiveFineTuningOptions { LearningRate = 1e-3, Epochs = 12, BatchSize = 16, WeightDecay = 0 };
        new ContrastiveFineTuner(clip, options with { Epochs = 30 }).Fit(clean);
        var before = Measure();
        var tuner = new ContrastiveFineTuner(clip, options);
        var reports = new List<FineTuningProgress>();
        var finalLoss = tuner.Fit(poisoned, new SyncProgress<FineTuningProgress>(reports.Add));
        var after = Measure();
        output.WriteLine($"before: {before.ToCell()}  after: {after.ToCell()}  final loss {finalLoss:F3}");

        Assert.Equal(12 * 6, reports.Count);
        Assert.True(reports.Take(6).Average(r => r.Loss) > reports.TakeLast(6).Average(r => r.Loss), "the contrastive loss must fall");
        Assert.True(before.CleanAccuracy >= 0.75, $"the clean model should be competent before poisoning, CA {before.CleanAccuracy:P0}");
        Assert.True(after.AttackSuccessRate >= before.AttackSuccessRate + 0.3,
            $"poisoning should raise ASR clearly: before {before.AttackSuccessRate:P0}, after {after.AttackSuccessRate:P0}");
        Assert.All(clip.parameters(), p => Assert.False(p.requires_grad));
    }

    [Fact]
    public void ScheduleWarmsUpLinearlyThenDecays()
    {
        using var temp = new TempDirectory();
        var tokenizer = ClipVocabularyGenerator.WriteTo(temp.Path, Classes);
        using var clip = new ClipModelBuilder().WithConfig(new ClipConfig
        {
            EmbedDim = 8,
            Vision = new ClipVisionConfig { ImageSize = 16, PatchSize = 8, Width = 16, Layers = 1, Heads = 1 },
            Text = new ClipTextConfig { ContextLength = 8, VocabSize = tokenizer.VocabularySize, Width = 16, Layers = 1, Heads = 1 },
        }).WithRandomWeights().WithTokenizer(tokenizer).Build();
        var tuner = new ContrastiveFineTuner(clip, new ContrastiveFineTuningOptions { LearningRate = 1.0, WarmupSteps = 4 });
        Assert.Equal(0.25, tuner.LearningRateAt(0, 20), 12);
        Assert.Equal(1.0, tuner.LearningRateAt(3, 20), 12);
        Assert.Equal(1.0, tuner.LearningRateAt(4, 20), 12);
        Assert.Equal(0.5, tuner.LearningRateAt(12, 20), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContrastiveFineTuningOptions { BatchSize = 1 }.Validate());
    }
}
