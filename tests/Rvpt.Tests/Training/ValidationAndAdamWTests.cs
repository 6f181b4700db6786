using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The train/validation split, validation accuracy per epoch with early stopping, and AdamW for the prompts.</summary>
public sealed class ValidationAndAdamWTests
{
    private static readonly string[] Classes = { "cat", "dog", "banana", "car" };

    private sealed class Recorder : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> Reports { get; } = new();

        public Action<TrainingProgress>? OnReport { get; init; }

        public void Report(TrainingProgress value)
        {
            Reports.Add(value);
            OnReport?.Invoke(value);
        }
    }

    private static ClipModel Model() => new ClipModelBuilder()
        .FromCheckpoint(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"))
        .WithTokenizerDirectory(Fixtures.ClipTiny).Build();

    private static TensorDataset Data(int count, int seed = 77)
    {
        var g = new Generator((ulong)seed, CPU);
        var images = rand(new long[] { count, 3, 40, 40 }, generator: g) * 0.3f;
        var labels = tensor(Enumerable.Range(0, count).Select(i => (long)(i % 4)).ToArray());
        for (int i = 0; i < count; i++)
            images[i, i % 3, TensorIndex.Slice(8, 32), TensorIndex.Slice(8, 32)] = tensor(0.6f + 0.1f * (i % 4));
        return new TensorDataset(images, labels, Classes);
    }

    [Fact]
    public void Split_is_seeded_disjoint_per_class_and_refuses_too_few_images()
    {
        using var data = Data(40); // 10 images per class
        var a = TrainValidationSplit.Create(data, 0.2, seed: 5);
        var b = TrainValidationSplit.Create(data, 0.2, seed: 5);
        var c = TrainValidationSplit.Create(data, 0.2, seed: 6);
        Assert.Equal(a.Train.Indices, b.Train.Indices);
        Assert.Equal(a.Validation.Indices, b.Validation.Indices);
        Assert.NotEqual(a.Validation.Indices, c.Validation.Indices);
        Assert.Empty(a.Train.Indices.Intersect(a.Validation.Indices));
        Assert.Equal(40, a.Train.Count + a.Validation.Count);
        Assert.Equal([2, 2, 2, 2], a.Validation.CountPerClass());
        Assert.Equal([8, 8, 8, 8], a.Train.CountPerClass());
        Assert.Equal(a.Train.Indices.Order(), a.Train.Indices);

        using var small = Data(8); // 2 per class: 1 held out, 1 left
        Assert.Equal([1, 1, 1, 1], TrainValidationSplit.Create(small, 0.2, seed: 1).Train.CountPerClass());
        var e = Assert.Throws<InvalidDataException>(() => TrainValidationSplit.Create(small, 0.2, seed: 1, minimumTrainPerClass: 2));
        Assert.Contains("'cat' has 2 image(s)", e.Message);
        Assert.Contains("2 are needed", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainValidationSplit.Create(small, 1.0, seed: 1));
    }

    [SkippableFact]
    public void Validation_accuracy_is_reported_after_every_epoch_and_patience_stops_the_run()
    {
        using var clip = Model();
        using var train = Data(16);
        using var validation = Data(8, seed: 3);
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(1).Build();
        var recorder = new Recorder();
        var summary = FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(3).BatchSize(8).Augment(false).Warmup(0)
            .Sgd(learningRate: 0.05).WithValidation(validation).Build().Fit(train, recorder);
        var perEpoch = recorder.Reports.Where(r => r.ValidationAccuracy is not null).ToList();
        Assert.Equal([1, 2, 3], perEpoch.Select(r => r.Epoch));
        Assert.Equal(3, summary.ValidationAccuracies.Count);
        Assert.Equal(perEpoch.Select(r => r.ValidationAccuracy!.Value), summary.ValidationAccuracies);
        Assert.All(summary.ValidationAccuracies, a => Assert.InRange(a, 0, 1));
        Assert.Equal(PromptedAccuracy.Evaluate(prompts, validation), summary.ValidationAccuracies[^1], 12);
        Assert.False(summary.StoppedEarly);
        Assert.Equal(6, summary.Steps);

        // A learning rate too small to change a prediction: the accuracy never improves, so patience 1 stops after epoch 2.
        using var frozen = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(1).Build();
        var stopped = FewShotTrainer.For(clip, frozen).WithClasses(Classes).Epochs(5).BatchSize(8).Augment(false).Warmup(0)
            .Sgd(learningRate: 1e-12).WithValidation(validation, earlyStoppingPatience: 1).Build().Fit(train);
        Assert.True(stopped.StoppedEarly);
        Assert.Equal(2, stopped.ValidationAccuracies.Count);
        Assert.Equal(1, stopped.BestEpoch);
        Assert.Equal(4, stopped.Steps);

        using var wrong = new TensorDataset(zeros(2, 3, 40, 40), tensor(new long[] { 0, 1 }), ["a", "b", "c", "d"]);
        var e = Assert.Throws<ArgumentException>(() => FewShotTrainer.For(clip, frozen).WithClasses(Classes).WithValidation(wrong).Build().Fit(train));
        Assert.Contains("validation set", e.Message);
    }

    [Fact]
    public void PromptAdamW_matches_torch_optim_AdamW()
    {
        using var p = tensor(new float[] { 1f, -2f, 0.5f }).requires_grad_(true);
        using var q = new TorchSharp.Modules.Parameter(tensor(new float[] { 1f, -2f, 0.5f }));
        using var ours = new PromptAdamW(p, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1);
        var reference = TorchSharp.torch.optim.AdamW([q], lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.1);
        for (int i = 0; i < 5; i++)
        {
            using (var loss = (p * p * p).sum()) loss.backward();
            ours.Step(0.05);
            ours.ZeroGrad();
            reference.zero_grad();
            using (var loss = (q * q * q).sum()) loss.backward();
            reference.step();
        }
        Assert.Equal(5, ours.Steps);
        Assert.True(p.allclose(q, rtol: 1e-5, atol: 1e-7), $"ours {string.Join(", ", p.data<float>().ToArray())}, torch {string.Join(", ", q.data<float>().ToArray())}");
    }

    [SkippableFact]
    public void AdamW_training_resumes_bit_for_bit_and_is_refused_by_an_sgd_run()
    {
        using var clip = Model();
        using var data = Data(16);
        using var temp = new TempDirectory();

        Tensor Run(string? checkpoints, bool adamW = true, CancellationToken ct = default, Action<TrainingProgress>? onReport = null)
        {
            using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Seed(1).Build();
            var builder = FewShotTrainer.For(clip, prompts).WithClasses(Classes).Epochs(3).BatchSize(8).Warmup(0).Seed(3);
            builder = adamW ? builder.AdamW(learningRate: 0.01) : builder.Sgd(learningRate: 0.01);
            if (checkpoints is not null) builder.WithCheckpointDirectory(checkpoints);
            builder.Build().Fit(data, new Recorder { OnReport = onReport }, ct);
            return prompts.Prompts.detach().clone();
        }

        using var straight = Run(null);
        using var sgd = Run(null, adamW: false);
        Assert.False(straight.allclose(sgd), "AdamW and SGD gave the same prompts");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => Run(temp.Path, ct: cts.Token, onReport: r => { if (r.Epoch == 2 && r.Step == 1) cts.Cancel(); }));
        var e = Assert.Throws<InvalidDataException>(() => Run(temp.Path, adamW: false));
        Assert.Contains("optimizer", e.Message);
        using var resumed = Run(temp.Path);
        TensorAssert.BitIdentical(straight, resumed, "AdamW prompts after interrupt + resume");
    }
}
