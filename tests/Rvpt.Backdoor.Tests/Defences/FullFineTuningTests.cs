using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

public class FullFineTuningTests
{
    private static FullFineTuningOptions Options(double alpha, double lr = 0.05, int epochs = 3) => new()
    {
        Alpha = alpha,
        UnrepelledDepth = 1,
        Training = new TrainingOptions { Epochs = epochs, BatchSize = 8, LearningRate = lr, WarmupEpochs = 0, Augment = false },
    };

    [Fact]
    public void Trains_only_a_copy_of_the_image_encoder()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        using var before = new DisposableTensors(clip.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone()));
        var (images, labels) = ToyShapes.Make(4, seed: 1);
        using var shots = new TensorDataset(images, tensor(labels), ToyShapes.Classes);

        using var tuned = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, Options(alpha: 2));

        foreach (var (key, value) in clip.state_dict())
            Assert.True(value.equal(before.Tensors[key]).all().item<bool>(), $"the original's {key} changed");
        var changed = tuned.state_dict().Where(p => !p.Value.equal(before.Tensors[p.Key]).all().item<bool>()).Select(p => p.Key).ToList();
        Assert.NotEmpty(changed);
        Assert.All(changed, key => Assert.StartsWith("visual.", key));
        Assert.Contains("visual.transformer.resblocks.0.attn.in_proj_weight", changed);
        Assert.Contains("visual.proj", changed);
        Assert.All(tuned.parameters(), p => Assert.False(p.requires_grad));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(2.0)]
    public void First_step_is_the_zero_shot_cross_entropy_plus_alpha_times_one(double alpha)
    {
        // Before the first update the copy equals the original, so every repelled class token has cosine 1 with its
        // reference: the repelling term is exactly 1 and the loss is CE + alpha. CE is computed here independently.
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(2, seed: 5);
        using var shots = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var reports = new List<TrainingProgress>();
        var options = Options(alpha, epochs: 1) with { Training = Options(alpha).Training with { Epochs = 1, BatchSize = 8 } };

        using var tuned = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, options, progress: new SyncProgress<TrainingProgress>(reports.Add));

        Assert.Single(reports);
        double expectedCe;
        using (var classifier = ZeroShotClassifier.Create(clip, ToyShapes.Classes, PromptTemplates.APhotoOfA))
        using (no_grad())
        {
            var pixels = clip.ImageProcessor.Normalize(images);
            var logits = classifier.Logits(pixels);
            expectedCe = nn.functional.cross_entropy(logits, tensor(labels)).item<float>();
        }
        Assert.Equal(expectedCe, reports[0].CrossEntropy, 4);
        Assert.Equal(1.0, reports[0].Repelling, 5);
        Assert.Equal(expectedCe + alpha, reports[0].Loss, 4);
    }

    [Fact]
    public void Is_deterministic_and_learns_the_shots()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(4, seed: 1);
        using var shots = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var reports = new List<TrainingProgress>();

        using var a = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, Options(0, epochs: 8), progress: new SyncProgress<TrainingProgress>(reports.Add));
        using var b = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, Options(0, epochs: 8));

        foreach (var (key, value) in a.state_dict())
            Assert.True(value.equal(b.state_dict()[key]).all().item<bool>(), $"{key} differs between two runs");
        Assert.True(reports[^1].CrossEntropy < 0.5 * reports[0].CrossEntropy,
            $"cross-entropy went from {reports[0].CrossEntropy} to {reports[^1].CrossEntropy}");
    }

    [Fact]
    public void Keeping_the_reference_class_tokens_changes_nothing_but_the_work()
    {
        // Without augmentation the reference encoder's class tokens of a shot are kept after its first step
        // (TrainingOptions.CacheFrozenClassTokens). Batches are reshuffled every epoch, so a token served for the wrong
        // shot would change the repelling term, its gradient and the weights; none may change.
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(4, seed: 3);
        using var shots = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var options = Options(alpha: 2, epochs: 4);
        var cached = new List<TrainingProgress>();
        var uncached = new List<TrainingProgress>();

        using var a = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, options, progress: new SyncProgress<TrainingProgress>(cached.Add));
        using var b = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, options with { Training = options.Training with { CacheFrozenClassTokens = false } },
            progress: new SyncProgress<TrainingProgress>(uncached.Add));
        using var c = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, options with { Training = options.Training with { CacheMemoryBudget = 0 } });

        Assert.Equal(uncached.Select(r => (r.Loss, r.Repelling)), cached.Select(r => (r.Loss, r.Repelling)));
        Assert.True(cached[^1].Repelling < 1, "the copy never moved away from its reference");
        foreach (var (key, value) in a.state_dict())
        {
            Assert.True(value.equal(b.state_dict()[key]).all().item<bool>(), $"{key} differs with the cache off");
            Assert.True(value.equal(c.state_dict()[key]).all().item<bool>(), $"{key} differs with no cache budget");
        }
    }

    [Fact]
    public void Uses_the_optimiser_the_options_name()
    {
        // AdamW's first step moves every weight whose gradient is well above epsilon by lr * g / |g|, that is by lr
        // (no weight decay here); SGD's moves it by lr * |g|, which for this model is far from lr.
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(2, seed: 3);
        using var shots = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        const double lr = 1e-3;
        var sgd = Options(0, lr, epochs: 1);
        var adamw = sgd with { Training = sgd.Training with { Optimizer = PromptOptimizer.AdamW, WeightDecay = 0, AdamEpsilon = 1e-12 } };
        using var before = clip.Visual.Projection.detach().clone();
        using var tunedAdam = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, adamw);
        using var stepAdam = (tunedAdam.Visual.Projection - before).abs();
        Assert.True(stepAdam.max().item<float>() <= lr * 1.001, $"largest AdamW step {stepAdam.max().item<float>()}");
        Assert.InRange(stepAdam.median().item<float>(), lr * 0.99, lr * 1.001);

        using var tunedSgd = FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, sgd);
        using var stepSgd = (tunedSgd.Visual.Projection - before).abs();
        Assert.True(stepSgd.median().item<float>() < 0.5 * lr, $"median SGD step {stepSgd.median().item<float>()} (lr * |g|)");
    }

    [Fact]
    public void Refuses_bad_settings()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(1, seed: 1);
        using var shots = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var e = Assert.Throws<ArgumentException>(() => FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, Options(2) with { UnrepelledDepth = 2 }));
        Assert.Contains("2-block", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FullFineTuningOptions { Alpha = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FullFineTuningOptions { UnrepelledDepth = -1 }.Validate());
        var diverging = Options(0, lr: 1e30, epochs: 2);
        var d = Assert.Throws<InvalidOperationException>(() => FullFineTuning.Train(clip, shots, PromptTemplates.APhotoOfA, diverging));
        Assert.Contains("epoch", d.Message);
    }
}
