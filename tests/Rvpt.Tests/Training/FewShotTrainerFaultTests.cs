using System.Globalization;
using Rvpt.Clip;
using Rvpt.Testing;
using Rvpt.TrainingHelper;
using Xunit;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// Faults inside one process: cancellation, a crash mid-epoch, NaN/Inf inputs and diverging prompts, a checkpoint
/// folder from another run or damaged. The tiny setup (<see cref="TinyTraining"/>: random CLIP, 16 images, 4 steps
/// per epoch, prompt dropout on) is the one the process-kill test runs.
/// </summary>
public sealed class FewShotTrainerFaultTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly ClipModel clip;
    private readonly TensorDataset data = TinyTraining.Data();

    public FewShotTrainerFaultTests() => clip = TinyTraining.Model(temp.File("vocabulary"));

    /// <summary>Disposes the model and data and deletes the files.</summary>
    public void Dispose()
    {
        data.Dispose();
        clip.Dispose();
        temp.Dispose();
    }

    private string StateFile(string dir) => Path.Combine(dir, TrainingState.FileName);

    /// <summary>Trains fresh prompts and returns a copy of them; the trainer builder can be adjusted.</summary>
    private Tensor Train(string? checkpoints, ILabeledImageSource? source = null, Action<TrainingProgress>? onReport = null,
        CancellationToken token = default, Func<FewShotTrainerBuilder, FewShotTrainerBuilder>? adjust = null, List<TrainingProgress>? reports = null)
    {
        using var prompts = TinyTraining.Prompts(clip);
        var builder = TinyTraining.Trainer(clip, prompts);
        if (checkpoints is not null) builder.WithCheckpointDirectory(checkpoints);
        builder = adjust?.Invoke(builder) ?? builder;
        builder.Build().Fit(source ?? data, new Recorder(reports ?? [], onReport), token);
        return prompts.Prompts.detach().clone();
    }

    private static (int Epoch, int Step) Position(string stateFile)
    {
        var tensors = SafetensorsFile.Load(stateFile, null, out var meta);
        foreach (var t in tensors.Values) t.Dispose();
        return (int.Parse(meta["epochs_completed"], CultureInfo.InvariantCulture), int.Parse(meta["steps_completed"], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void SameSeedSameMachineGivesBitIdenticalPromptsWithDropoutAndAugmentation()
    {
        using var a = Train(null);
        // Other code using libtorch's global generator meanwhile (other tests run in parallel too) changes nothing.
        using var b = Train(null, onReport: r =>
        {
            torch.random.manual_seed(r.Step);
            rand(100).Dispose();
        });
        TensorAssert.BitIdentical(a, b, "two runs with seed 7");
        using var other = Train(null, adjust: t => t.Seed(8));
        Assert.False(other.equal(a).all().item<bool>(), "another seed gave the same prompts");
    }

    [Fact]
    public void PromptDropoutDrawsFromItsOwnSeededGenerator()
    {
        using var prompts = DeepPromptInjector.For(clip).FromBlock(1).Tokens(4).Dropout(0.5).Seed(5).Build();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = rand(new long[] { 2, 3, 32, 32 }, generator: new Generator(3, CPU));
        var trunk = prompts.RunSharedTrunk(pixels);
        Tensor Features(long seed)
        {
            prompts.SeedDropout(seed);
            torch.random.manual_seed(seed + 1000); // the global generator must not matter
            return prompts.RunPrompted(trunk).ImageFeatures;
        }
        prompts.train();
        TensorAssert.BitIdentical(Features(1), Features(1), "same dropout seed");
        Assert.False(Features(1).equal(Features(2)).all().item<bool>(), "another dropout seed gave the same masks");
        prompts.eval();
        TensorAssert.BitIdentical(Features(1), Features(2), "no dropout in eval mode");
    }

    [Fact]
    public void CancellationStopsWithinOneStepAndLeavesAResumableCheckpoint()
    {
        using var reference = Train(null);
        var dir = temp.File("cancel");
        using var cts = new CancellationTokenSource();
        var reports = new List<TrainingProgress>();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Train(dir, token: cts.Token, reports: reports, onReport: r => { if (r is { Epoch: 2, Step: 3 }) cts.Cancel(); }));

        // No step after the one that saw the cancellation; the state after it is saved although no epoch ended.
        Assert.Equal((2, 3), (reports[^1].Epoch, reports[^1].Step));
        Assert.Equal(4 + 3, reports.Count);
        Assert.Equal((1, 3), Position(StateFile(dir)));

        var resumedReports = new List<TrainingProgress>();
        using var resumed = Train(dir, reports: resumedReports);
        Assert.Equal((2, 4), (resumedReports[0].Epoch, resumedReports[0].Step));
        TensorAssert.BitIdentical(reference, resumed, "prompts after cancel + resume");
    }

    [Fact]
    public void CancellationAfterAnEpochsLastStepSavesTheEpochEnd()
    {
        var dir = temp.File("cancel-at-end");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Train(dir, token: cts.Token, onReport: r => { if (r is { Epoch: 1, Step: 4 }) cts.Cancel(); }));
        Assert.Equal((1, 0), Position(StateFile(dir)));
    }

    [Fact]
    public void ACrashMidEpochResumesFromTheLastPeriodicCheckpointBitIdentically()
    {
        using var reference = Train(null);
        var dir = temp.File("crash");
        var crash = Assert.Throws<IOException>(() =>
            Train(dir, adjust: t => t.CheckpointEverySteps(2), onReport: r => { if (r is { Epoch: 3, Step: 2 }) throw new IOException("simulated crash"); }));
        Assert.Equal("simulated crash", crash.Message);
        Assert.Equal((2, 0), Position(StateFile(dir))); // the step-2 checkpoint comes after the report that crashed

        using var resumed = Train(dir, adjust: t => t.CheckpointEverySteps(2));
        TensorAssert.BitIdentical(reference, resumed, "prompts after crash + resume");
    }

    [Fact]
    public void NonFiniteInputsStopNamingEpochStepAndImageAndKeepTheCheckpoint()
    {
        var dir = temp.File("nan-input");
        var poisoned = new PoisonAfter(data, loads: TinyTraining.Images, value: float.NaN, StateFile(dir)); // epoch 2 gets NaN images
        var e = Assert.Throws<InvalidDataException>(() => Train(dir, poisoned));
        Assert.Contains("epoch 2, step 1", e.Message);
        Assert.Contains("NaN or infinite", e.Message);
        Assert.Contains("item ", e.Message);
        Assert.Contains(StateFile(dir), e.Message);

        // The checkpoint is the one written after epoch 1, byte for byte.
        Assert.NotNull(poisoned.StateWhenPoisoned);
        Assert.Equal(poisoned.StateWhenPoisoned, File.ReadAllBytes(StateFile(dir)));
        Assert.Equal((1, 0), Position(StateFile(dir)));
    }

    [Fact]
    public void DivergingPromptsStopNamingEpochAndStepAndAreNeverWritten()
    {
        // A warm-up epoch at 1e-3, then a learning rate that overflows float32 in the first update of epoch 2.
        var dir = temp.File("diverge");
        var e = Assert.Throws<InvalidOperationException>(() => Train(dir, adjust: t => t.Sgd(learningRate: 1e39)));
        Assert.Contains("epoch 2, step 1", e.Message);
        Assert.Contains("NaN or infinite", e.Message);
        Assert.Equal((1, 0), Position(StateFile(dir)));

        // Prompts that turn NaN outside a step (here: in the progress callback after epoch 2's last step) are refused
        // by the checkpoint writer.
        var later = temp.File("nan-prompts");
        using var prompts = TinyTraining.Prompts(clip);
        var trainer = TinyTraining.Trainer(clip, prompts).WithCheckpointDirectory(later).Build();
        var refused = Assert.Throws<InvalidOperationException>(() => trainer.Fit(data, new Recorder([], r =>
        {
            if (r is { Epoch: 2, Step: 4 })
            {
                using (no_grad()) prompts.Prompts[0, 0, 0] = tensor(float.NaN);
            }
        })));
        Assert.Contains("Refusing to write", refused.Message);
        Assert.Contains("'prompts'", refused.Message);
        Assert.Equal((1, 0), Position(StateFile(later)));
        using var state = SafetensorsFile.Load(StateFile(later)).AsDisposable();
        Assert.True(state.Tensors["prompts"].isfinite().all().item<bool>());
    }

    [Fact]
    public void ACheckpointFromAnotherRunIsRefusedNamingTheDifference()
    {
        var dir = temp.File("other-run");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => Train(dir, token: cts.Token, onReport: r => { if (r.Step == 2) cts.Cancel(); }));

        var e = Assert.Throws<InvalidDataException>(() => Train(dir, adjust: t => t.BatchSize(8)));
        Assert.Contains(StateFile(dir), e.Message);
        Assert.Contains("batch_size: checkpoint 4, this run 8", e.Message);
        var lr = Assert.Throws<InvalidDataException>(() => Train(dir, adjust: t => t.Sgd(learningRate: 0.01)));
        Assert.Contains("learning_rate: checkpoint 0.05, this run 0.01", lr.Message);
        var fewer = FewShotSampler.Sample(data, 2, seed: 0);
        var subset = Assert.Throws<InvalidDataException>(() => Train(dir, fewer));
        Assert.Contains("images: checkpoint 16, this run 8", subset.Message);
    }

    [Fact]
    public void ADamagedCheckpointIsRefusedAndAbandonedTemporaryFilesAreRemoved()
    {
        var dir = temp.File("damaged");
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => Train(dir, token: cts.Token, onReport: r => { if (r.Step == 2) cts.Cancel(); }));
        var good = File.ReadAllBytes(StateFile(dir));

        File.WriteAllBytes(StateFile(dir), good[..(good.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Train(dir));
        Assert.Contains(StateFile(dir), e.Message);

        // What a writer killed mid-write leaves behind: the old file intact and a partial temporary file.
        File.WriteAllBytes(StateFile(dir), good);
        var leftover = Path.Combine(dir, $".{TrainingState.FileName}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(leftover, good[..100]);
        var unrelated = Path.Combine(dir, "notes.tmp");
        File.WriteAllText(unrelated, "mine");
        using (Train(dir)) { }
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(unrelated));
    }

    [Fact]
    public void MismatchedClassNamesNameTheFirstDifference()
    {
        using var prompts = TinyTraining.Prompts(clip);
        var trainer = FewShotTrainer.For(clip, prompts).WithClasses(["red", "green", "cyan", "yellow"]).Build();
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(data));
        Assert.Contains("class 2 is 'blue' in the data but 'cyan' in the trainer", e.Message);
        var shorter = FewShotTrainer.For(clip, prompts).WithClasses(["red", "green", "blue"]).Build();
        Assert.Contains("the data has 4 classes, the trainer 3", Assert.Throws<ArgumentException>(() => shorter.Fit(data)).Message);
    }

    [Fact]
    public void OptionsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingOptions { CheckpointEverySteps = -1 }.Validate());
        var loader = new BatchLoader(data, clip.ImageProcessor, new BatchLoaderOptions { BatchSize = 4 });
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.Epoch(0, 5).ToList());
        Assert.Empty(loader.Epoch(0, 4));
    }

    /// <summary>Synchronous progress sink (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Recorder(List<TrainingProgress> reports, Action<TrainingProgress>? onReport) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            reports.Add(value);
            onReport?.Invoke(value);
        }
    }

    /// <summary>
    /// Serves the wrapped images, then (after <c>loads</c> images) images full of <c>value</c>, remembering the
    /// training state file as it was when the first bad image was served.
    /// </summary>
    private sealed class PoisonAfter(ILabeledImageSource inner, int loads, float value, string stateFile) : ILabeledImageSource
    {
        private readonly Lock gate = new();
        private int count;

        public byte[]? StateWhenPoisoned { get; private set; }

        public int Count => inner.Count;

        public IReadOnlyList<string> ClassNames => inner.ClassNames;

        public int GetLabel(int index) => inner.GetLabel(index);

        public string Describe(int index) => inner.Describe(index);

        public Tensor LoadPixels01(int index)
        {
            var image = inner.LoadPixels01(index);
            if (Interlocked.Increment(ref count) <= loads) return image;
            lock (gate) StateWhenPoisoned ??= File.ReadAllBytes(stateFile);
            image.fill_(value);
            return image;
        }
    }
}
