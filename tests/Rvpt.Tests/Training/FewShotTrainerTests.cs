using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The few-shot trainer on the fixture model with a small generated data set.</summary>
public sealed class FewShotTrainerTests
{
    private static readonly string[] Classes = { "cat", "dog", "banana", "car" };

    /// <summary>Synchronous progress sink (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Recorder(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = new();

        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    private static ClipModel Model() => new ClipModelBuilder()
        .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
        .WithTokenizerDirectory(Fixtures.ClipTiny).Build();

    /// <summary><paramref name="count"/> images of 40 x 40 in [0, 1], classes cycling, each class a different colour blob.</summary>
    private static TensorDataset Data(int count = 16)
    {
        var g = new Generator(77, CPU);
        var images = rand(new long[] { count, 3, 40, 40 }, generator: g) * 0.3f;
        var labels = tensor(Enumerable.Range(0, count).Select(i => (long)(i % 4)).ToArray());
        for (int i = 0; i < count; i++)
            images[i, i % 3, TensorIndex.Slice(8, 32), TensorIndex.Slice(8, 32)] = tensor(0.6f + 0.1f * (i % 4));
        return new TensorDataset(images, labels, Classes);
    }

    private static FewShotTrainerBuilder Trainer(ClipModel clip, DeepPromptInjector prompts) =>
        FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(4).BatchSize(8).Sgd(learningRate: 0.05).Warmup(1, 1e-3).Seed(3);

    [SkippableFact]
    public void TrainingLowersTheLossAndLeavesClipUntouched()
    {
        using var clip = Model();
        var before = ClipWeightsFingerprint.Compute(clip);
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(8).Seed(1).Build();
        using var data = Data();
        var recorder = new Recorder();
        var summary = Trainer(clip, prompts).Epochs(8).Augment(false).Build().Fit(data, recorder);

        Assert.Equal(8 * 2, recorder.Reports.Count);
        Assert.Equal(16, summary.Steps);
        var first = recorder.Reports.Take(2).Average(r => r.Loss);
        var last = recorder.Reports.TakeLast(2).Average(r => r.Loss);
        Assert.True(last < first, $"loss did not fall: first epoch {first:F4}, last epoch {last:F4}");
        Assert.Equal(1.0, recorder.Reports[^1].Fraction, 6);
        Assert.Equal(before, ClipWeightsFingerprint.Compute(clip));
        Assert.InRange(PromptedAccuracy.Evaluate(prompts, data), 0.0, 1.0);
    }

    [SkippableTheory]
    [InlineData(true, 10, 2)]   // CoOp: 10 images in batches of 4 train on 2 full batches per epoch
    [InlineData(false, 10, 3)]  // Rvpt's earlier behaviour: the last batch of 2 is kept
    [InlineData(true, 3, 1)]    // fewer images than a batch: nothing is dropped (Dassl: len(data) >= batch_size)
    public void DropLast_DropsTheIncompleteBatchAsCoOp(bool dropLast, int images, int stepsPerEpoch)
    {
        using var clip = Model();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(8).Seed(1).Build();
        using var data = Data(images);
        var recorder = new Recorder();
        var summary = Trainer(clip, prompts).Epochs(2).BatchSize(4).Augment(false).DropLast(dropLast).Build().Fit(data, recorder);
        Assert.Equal(2 * stepsPerEpoch, summary.Steps);
        Assert.True(new TrainingOptions().DropLast, "CoOp's behaviour is the default");
    }

    [SkippableFact]
    public void SameSeedSameResultAndResumeEqualsUninterrupted()
    {
        using var clip = Model();
        using var data = Data();
        using var temp = new TempDirectory();

        Tensor Run(string? checkpoints, CancellationToken ct = default, Action<TrainingProgress>? onReport = null)
        {
            using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(8).Seed(1).Build();
            var builder = Trainer(clip, prompts);
            if (checkpoints is not null) builder.WithCheckpointDirectory(checkpoints);
            builder.Build().Fit(data, new Recorder(onReport), ct);
            return prompts.Prompts.detach().clone();
        }

        using var a = Run(null);
        using var b = Run(null);
        TensorAssert.BitIdentical(a, b, "prompts of two runs with the same seed");

        // Interrupt during epoch 3, then rerun with the same checkpoint folder: it resumes after epoch 2.
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => Run(temp.Path, cts.Token, r => { if (r.Epoch == 3) cts.Cancel(); }));
        Assert.True(File.Exists(Path.Combine(temp.Path, "training-state.safetensors")));
        using var resumed = Run(temp.Path);
        TensorAssert.BitIdentical(a, resumed, "prompts after interrupt + resume");
    }

    [SkippableFact]
    public void NonFiniteLossStopsWithAClearError()
    {
        using var clip = Model();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Build();
        using (no_grad()) prompts.Prompts[0, 0, 0] = tensor(float.NaN);
        using var data = Data();
        var e = Assert.Throws<InvalidOperationException>(() => Trainer(clip, prompts).Build().Fit(data));
        Assert.Contains("NaN", e.Message);
        Assert.Contains("epoch 1, step 1", e.Message);
    }

    [SkippableFact]
    public void MismatchedClassesAreRejected()
    {
        using var clip = Model();
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Build();
        using var data = Data();
        var trainer = FewShotTrainer.For(clip, prompts).WithClasses(new[] { "a", "b", "c", "d" }).Build();
        Assert.Throws<ArgumentException>(() => trainer.Fit(data));
        Assert.Throws<InvalidOperationException>(() => FewShotTrainer.For(clip, prompts).Build());
    }

    [Fact]
    public void ScheduleWarmsUpThenAnnealsOverTheEpochs()
    {
        var s = new CosineWarmupSchedule(new TrainingOptions { Epochs = 50, LearningRate = 0.002 });
        Assert.Equal(1e-5, s.LearningRateAt(0));
        Assert.Equal(0.002, s.LearningRateAt(1), 12);
        Assert.Equal(0.001, s.LearningRateAt(26), 12);
        Assert.True(s.LearningRateAt(49) < s.LearningRateAt(48));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { WarmupEpochs = 5, Epochs = 5 }.Validate());
    }

    [Fact]
    public void PromptSgdFollowsPyTorchsRule()
    {
        using var p = tensor(new float[] { 1f, -2f }).requires_grad_(true);
        using var sgd = new PromptSgd(p, momentum: 0.9, weightDecay: 0.1);
        for (int i = 0; i < 2; i++)
        {
            using var loss = (p * p).sum();
            loss.backward();
            sgd.Step(0.1);
            sgd.ZeroGrad();
        }
        // step 1: g = 2p + 0.1p = 2.1p -> buf = 2.1p0, p1 = p0 - 0.21 p0 = 0.79 p0
        // step 2: g = 2.1 p1, buf = 0.9 * 2.1 p0 + 2.1 p1, p2 = p1 - 0.1 buf
        double p0 = 1, p1 = 0.79 * p0, p2 = p1 - 0.1 * (0.9 * 2.1 * p0 + 2.1 * p1);
        Assert.Equal(p2, p[0].item<float>(), 5);
        Assert.Equal(-2 * p2, p[1].item<float>(), 5);
    }
}
