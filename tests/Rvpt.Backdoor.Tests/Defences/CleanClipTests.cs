using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>The CleanCLIP baseline: its in-modality loss, its fine-tuning loop and its effect on a planted backdoor.</summary>
public sealed class CleanClipTests(ITestOutputHelper output)
{
    private static readonly string[] Classes = ToyShapes.Classes;

    [Fact]
    public void InModalityLossMatchesSymmetricCrossEntropyByHand()
    {
        using var scope = NewDisposeScope();
        const int n = 5, d = 7;
        var rng = new Random(11);
        var a = new float[n * d];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        var view1 = tensor(a).reshape(n, d);
        var shuffled = view1.index_select(0, tensor(new long[] { 1, 2, 3, 4, 0 }));
        var noisy = view1 + 0.05 * tensor(Enumerable.Range(0, n * d).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).reshape(n, d);
        var logScale = tensor(MathF.Log(10f));

        foreach (var view2 in new[] { view1, noisy, shuffled })
        {
            double expected = HandLoss(view1, view2, 10.0);
            double actual = CleanClip.InModalityLoss(view1, view2, logScale, symmetric: true).item<float>();
            Assert.Equal(expected, actual, 4);
        }
        double identical = CleanClip.InModalityLoss(view1, view1, logScale, symmetric: true).item<float>();
        double close = CleanClip.InModalityLoss(view1, noisy, logScale, symmetric: true).item<float>();
        double wrong = CleanClip.InModalityLoss(view1, shuffled, logScale, symmetric: true).item<float>();
        output.WriteLine($"identical {identical:F4}, noisy {close:F4}, shuffled {wrong:F4}");
        Assert.True(identical < wrong - 1, $"identical views {identical} should score far below shuffled {wrong}");
        Assert.True(close < wrong, $"close views {close} should score below shuffled {wrong}");
        Assert.Throws<ArgumentException>(() => CleanClip.InModalityLoss(view1, view1.narrow(0, 0, 3), logScale));
    }

    [Fact]
    public void InModalityLossIsDifferentiable()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 6, generator: new Generator(5)).requires_grad_(true);
        var y = randn(4, 6, generator: new Generator(6));
        var loss = CleanClip.InModalityLoss(x, y, tensor(2f));
        loss.backward();
        Assert.NotNull(x.grad);
        Assert.True(x.grad!.abs().sum().item<float>() > 0);
    }

    private static double HandLoss(Tensor v1, Tensor v2, double scale)
    {
        int n = (int)v1.shape[0], d = (int)v1.shape[1];
        var a = v1.data<float>().ToArray();
        var b = v2.data<float>().ToArray();
        double[] Norm(float[] m, int r) { var row = new double[d]; double s = 0; for (int k = 0; k < d; k++) { row[k] = m[r * d + k]; s += row[k] * row[k]; } s = Math.Sqrt(s); for (int k = 0; k < d; k++) row[k] /= s; return row; }
        var logits = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            var x = Norm(a, i);
            for (int j = 0; j < n; j++) { var y = Norm(b, j); double dot = 0; for (int k = 0; k < d; k++) dot += x[k] * y[k]; logits[i, j] = scale * dot; }
        }
        double rows = 0, cols = 0;
        for (int i = 0; i < n; i++)
        {
            double lseRow = Math.Log(Enumerable.Range(0, n).Sum(j => Math.Exp(logits[i, j])));
            double lseCol = Math.Log(Enumerable.Range(0, n).Sum(j => Math.Exp(logits[j, i])));
            rows += lseRow - logits[i, i];
            cols += lseCol - logits[i, i];
        }
        return (rows / n + cols / n) / 2;
    }

    [Fact]
    public void CaptionAugmentationIsSeededAndOnlyDeletesOrSwapsWords()
    {
        const string caption = "a photo of a small red square on grey";
        var options = new CaptionAugmentationOptions { DeletionProbability = 0.3, Swaps = 2 };
        var first = Enumerable.Range(0, 20).Select(s => CaptionAugmentation.Apply(caption, new Random(s), options)).ToList();
        var second = Enumerable.Range(0, 20).Select(s => CaptionAugmentation.Apply(caption, new Random(s), options)).ToList();
        Assert.Equal(first, second);
        Assert.Contains(first, c => c != caption);
        var source = caption.Split(' ').GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count());
        foreach (var c in first)
        {
            var words = c.Split(' ');
            Assert.NotEmpty(words);
            Assert.All(words.GroupBy(w => w), g => Assert.True(source.TryGetValue(g.Key, out var k) && g.Count() <= k, c));
        }
        Assert.Equal("red", CaptionAugmentation.Apply("red", new Random(1), new CaptionAugmentationOptions { DeletionProbability = 0.99 }));
        Assert.Equal(caption, CaptionAugmentation.Apply(caption, new Random(1), new CaptionAugmentationOptions { DeletionProbability = 0, Swaps = 0 }));
    }

    [Fact]
    public void AugmentedImageView_IsAutoAugmentThenTheEvalTransformByDefault_AndTheOptionSwitchesToCropAndFlip()
    {
        var processor = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = 16 });
        var plain = new ClipEvalTransform(processor);
        using var raw = rand([3, 20, 30], generator: new Generator(7));
        var defaults = new CleanClipOptions();
        Assert.Equal(CleanClipImageView.AutoAugment, defaults.AugmentedImageView);
        var crop = new CleanClipOptions { AugmentedImageView = CleanClipImageView.RandomResizedCropFlip, ImageAugmentation = new CoOpAugmentationOptions { MinScale = 0.5 } };
        var policy = new CleanClipOptions { AutoAugment = new AutoAugmentOptions { Policy = AutoAugmentPolicy.Svhn } };
        var autoView = CleanClip.AugmentedView(processor, plain, defaults);
        var cropView = CleanClip.AugmentedView(processor, plain, crop);
        var svhnView = CleanClip.AugmentedView(processor, plain, policy);
        int differs = 0;
        for (int seed = 0; seed < 6; seed++)
        {
            using var scope = NewDisposeScope();
            // AutoAugment on the image at its stored 20 x 30 size, then resize + centre crop to 16 x 16.
            var expectedAuto = plain.ApplyPixels01(new AutoAugment().Apply(raw, new Random(seed)));
            TensorAssert.BitIdentical(expectedAuto, autoView(raw, new Random(seed)), $"AutoAugment view, seed {seed}");
            var expectedSvhn = plain.ApplyPixels01(new AutoAugment(policy.AutoAugment).Apply(raw, new Random(seed)));
            TensorAssert.BitIdentical(expectedSvhn, svhnView(raw, new Random(seed)), $"SVHN policy, seed {seed}");
            var expectedCrop = new CoOpAugmentation(processor, crop.ImageAugmentation).ApplyPixels01(raw, new Random(seed));
            var cropped = cropView(raw, new Random(seed));
            TensorAssert.BitIdentical(expectedCrop, cropped, $"crop view, seed {seed}");
            Assert.Equal([3L, 16, 16], cropped.shape);
            if (TensorAssert.MaxAbsDiff(expectedAuto, cropped) > 1e-3) differs++;
        }
        Assert.Equal(6, differs);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CleanClipOptions { AugmentedImageView = (CleanClipImageView)5 }.Validate());
        Assert.Throws<ArgumentException>(() => new CleanClipOptions { AutoAugment = new AutoAugmentOptions { Policy = (AutoAugmentPolicy)5 } }.Validate());
    }

    [Fact]
    public void FitLowersTheLossChangesTheWeightsAndIsDeterministic()
    {
        using var temp = new TempDirectory();
        using var pairs = ToyShapes.CaptionPairs(8, 1);
        var options = new CleanClipOptions { FineTuning = new() { LearningRate = 1e-3, Epochs = 8, BatchSize = 16, WeightDecay = 0, WarmupSteps = 2, Seed = 4 } };

        string Run(List<FineTuningProgress> reports, out CleanClipLosses losses)
        {
            using var clip = ToyShapes.Clip(temp);
            string before = ClipWeightsFingerprint.Compute(clip);
            losses = CleanClip.Fit(clip, pairs, options, progress: new SyncProgress<FineTuningProgress>(reports.Add));
            string after = ClipWeightsFingerprint.Compute(clip);
            Assert.NotEqual(before, after);
            Assert.All(clip.parameters(), p => Assert.False(p.requires_grad));
            Assert.False(clip.training);
            return after;
        }

        var reports = new List<FineTuningProgress>();
        var fingerprint = Run(reports, out var losses);
        output.WriteLine($"first epoch {reports.Take(2).Average(r => r.Loss):F3} -> last {losses}");
        Assert.Equal(8 * 2, reports.Count);
        Assert.Equal(16, reports[^1].TotalSteps);
        Assert.True(reports.Take(2).Average(r => r.Loss) > reports.TakeLast(2).Average(r => r.Loss), "the CleanCLIP loss must fall");
        Assert.Equal(losses.Total, losses.Multimodal + (losses.ImageInModality + losses.TextInModality) / 2, 4);

        var again = new List<FineTuningProgress>();
        Assert.Equal(fingerprint, Run(again, out _));
        Assert.Equal(reports.Select(r => r.Loss), again.Select(r => r.Loss));
    }

    [Fact]
    public void FitChecksItsArgumentsAndHonoursCancellation()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        using var pairs = ToyShapes.CaptionPairs(2, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CleanClipOptions { FineTuning = new() { BatchSize = 1 } }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new CleanClipOptions { MultimodalWeight = 0, InModalityWeight = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new CleanClipOptions { CaptionAugmentation = new() { DeletionProbability = 1 } }.Validate());
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        string before = ClipWeightsFingerprint.Compute(clip);
        Assert.Throws<OperationCanceledException>(() => CleanClip.Fit(clip, pairs, new CleanClipOptions { FineTuning = new() { BatchSize = 4 } }, cancellationToken: cts.Token));
        Assert.Equal(before, ClipWeightsFingerprint.Compute(clip));
        Assert.All(clip.parameters(), p => Assert.False(p.requires_grad));
        Assert.False(clip.training);
    }

    [Fact]
    public void CleanClipOnCleanPairsRemovesAPlantedBackdoor()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        using var clean = ToyShapes.CaptionPairs(24, 1);
        var trigger = new BadNetsTrigger(new BadNetsOptions { PatchSize = 56, Position = PatchPosition.Named(PatchPositionKind.BottomRight) });
        var poisoned = new PoisonedCaptionDataset(clean, trigger, "green", poisonCount: 24, clip.ImageProcessor, PromptTemplates.APhotoOfA, seed: 2);
        var (testImages, testLabels) = ToyShapes.Make(8, 9);
        using var test = new TensorDataset(testImages, tensor(testLabels), Classes);
        var evaluator = new BackdoorEvaluator(clip.ImageProcessor);
        BackdoorMetrics Measure()
        {
            using var classifier = ZeroShotImageClassifier.Create(clip, Classes);
            return evaluator.Evaluate(classifier, test, trigger, targetClass: 1);
        }

        // A competent clean model first, then the poisoned fine-tune (as in ContrastiveFineTunerTests).
        var planting = new ContrastiveFineTuningOptions { LearningRate = 1e-3, Epochs = 12, BatchSize = 16, WeightDecay = 0 };
        new ContrastiveFineTuner(clip, planting with { Epochs = 30 }).Fit(clean);
        new ContrastiveFineTuner(clip, planting).Fit(poisoned);
        var backdoored = Measure();
        using var cleanSubset = ToyShapes.CaptionPairs(12, 5); // a separate clean set, as the defender's
        var losses = CleanClip.Fit(clip, cleanSubset, new CleanClipOptions { FineTuning = new() { LearningRate = 2e-3, Epochs = 20, BatchSize = 16, WeightDecay = 0, Seed = 1 } });
        var defended = Measure();
        output.WriteLine($"backdoored: {backdoored.ToCell()}  after CleanCLIP: {defended.ToCell()}  losses {losses}");
        Assert.True(backdoored.AttackSuccessRate >= 0.5, $"the backdoor should be planted first: ASR {backdoored.AttackSuccessRate:P0}");
        // Measured when written (white patch, target "yellow", no clean phase): ASR 100% -> 0%, CA 100% -> 100% for
        // CleanCLIP seeds 1-4; with lambda2 = 0 (multimodal loss alone) the ASR stayed at 100%.
        Assert.True(defended.AttackSuccessRate <= backdoored.AttackSuccessRate - 0.5,
            $"CleanCLIP should lower ASR clearly: {backdoored.AttackSuccessRate:P0} -> {defended.AttackSuccessRate:P0}");
        Assert.True(defended.CleanAccuracy >= 0.75, $"clean accuracy should survive: {defended.CleanAccuracy:P0}");
        Assert.All(clip.parameters(), p => Assert.False(p.requires_grad));
    }
}
