using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Few-shot prompt tuning: trains a <see cref="DeepPromptInjector"/>'s prompts with a <see cref="RepulsiveLoss"/> on a
/// labelled image set, with CoOp's recipe (SGD, cosine schedule with warm-up, random resized crop + flip). Every step
/// runs in its own dispose scope; the prompts and optimiser state are checkpointed atomically after each epoch and a
/// rerun with the same checkpoint folder resumes where it stopped.
/// </summary>
public sealed class FewShotTrainer
{
    private readonly DeepPromptInjector _prompts;
    private readonly RepulsiveLoss _loss;
    private readonly IReadOnlyList<string> _classNames;
    private readonly IReadOnlyList<string> _templates;
    private readonly ILogger _logger;

    internal FewShotTrainer(DeepPromptInjector prompts, RepulsiveLoss loss, IReadOnlyList<string> classNames,
        IReadOnlyList<string> templates, TrainingOptions options, ILogger logger)
    {
        _prompts = prompts;
        _loss = loss;
        _classNames = classNames;
        _templates = templates;
        Options = options.Validate();
        _logger = logger;
    }

    /// <summary>Starts a fluent builder.</summary>
    public static FewShotTrainerBuilder For(ClipModel clip, DeepPromptInjector prompts) => new(clip, prompts);

    /// <summary>The training settings.</summary>
    public TrainingOptions Options { get; }

    /// <summary>
    /// Trains on <paramref name="data"/> (labels index the trainer's class names). Reports after every step; honours
    /// cancellation between steps (throwing <see cref="OperationCanceledException"/>, the last epoch's checkpoint kept).
    /// </summary>
    /// <exception cref="ArgumentException">The data's class names differ from the trainer's.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite; the last good checkpoint is kept.</exception>
    public TrainingSummary Fit(ILabeledImageSource data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.ClassNames.SequenceEqual(_classNames))
            throw new ArgumentException($"The data's classes ({string.Join(", ", data.ClassNames.Take(5))}...) differ from the trainer's ({string.Join(", ", _classNames.Take(5))}...).", nameof(data));
        if (data.Count == 0) throw new ArgumentException("The training set is empty.", nameof(data));

        var clip = _prompts.Clip;
        var clock = Stopwatch.StartNew();
        using var classifier = ZeroShotClassifier.Create(clip, _classNames, _templates);
        var text = classifier.ClassEmbeddings;
        using var optimizer = new PromptSgd(_prompts.Prompts, Options.Momentum, Options.WeightDecay);
        var schedule = new CosineWarmupSchedule(Options);
        var loader = new BatchLoader(data, clip.ImageProcessor, new BatchLoaderOptions
        {
            BatchSize = Options.BatchSize, Shuffle = true, Augment = Options.Augment, Seed = Options.Seed,
        });

        int start = 0;
        if (Options.CheckpointDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            start = TrainingState.TryLoad(dir, _prompts, optimizer, Options.Seed);
            if (start > 0) _logger.LogInformation("Resuming from {Dir}: {Epochs} epoch(s) already done.", dir, start);
        }

        int steps = 0;
        double lastLoss = double.NaN, lastCe = double.NaN, lastFr = double.NaN;
        _prompts.train();
        try
        {
            for (int epoch = start; epoch < Options.Epochs; epoch++)
            {
                if (_prompts.Options.Dropout > 0) torch.random.manual_seed(Options.Seed * 100_003L + epoch); // dropout masks per epoch
                double lr = schedule.LearningRateAt(epoch);
                double sumLoss = 0, sumCe = 0, sumFr = 0;
                int step = 0;
                foreach (var batch in loader.Epoch(epoch, cancellationToken))
                {
                    using var batchScope = batch;
                    cancellationToken.ThrowIfCancellationRequested();
                    var stepClock = Stopwatch.StartNew();
                    double loss, ce, fr;
                    using (var scope = NewDisposeScope())
                    {
                        var images = batch.Images.to(clip.DType, clip.Device);
                        var labels = batch.Labels.to(clip.Device);
                        var trunk = _prompts.RunSharedTrunk(images);
                        var frozen = _prompts.RunFrozen(trunk);
                        var prompted = _prompts.RunPrompted(trunk);
                        var result = _loss.Compute(prompted, frozen, text, labels, clip.LogitScale);
                        loss = result.Total.item<float>();
                        ce = result.CrossEntropy.item<float>();
                        fr = result.Repelling.item<float>();
                        if (!double.IsFinite(loss))
                            throw new InvalidOperationException(
                                $"The loss became {loss} at epoch {epoch + 1}, step {step + 1} (cross-entropy {ce}, repelling {fr}, learning rate {lr}). " +
                                (Options.CheckpointDirectory is null ? "No checkpoint folder was set." : $"The last good state (epoch {epoch}) is in {Options.CheckpointDirectory}.") +
                                " Lower the learning rate or check the inputs for NaN/Inf.");
                        optimizer.ZeroGrad();
                        result.Total.backward();
                        optimizer.Step(lr);
                    }
                    step++;
                    steps++;
                    sumLoss += loss;
                    sumCe += ce;
                    sumFr += fr;
                    var report = new TrainingProgress(epoch + 1, Options.Epochs, step, loader.BatchesPerEpoch, loss, ce, fr, lr,
                        batch.Count / Math.Max(stepClock.Elapsed.TotalSeconds, 1e-9));
                    progress?.Report(report);
                    _logger.LogDebug("epoch {Epoch}/{Epochs} step {Step}/{Steps}: loss {Loss:F4} (CE {Ce:F4}, FR {Fr:F4}) lr {Lr:G3}, {Ips:F1} img/s",
                        report.Epoch, report.Epochs, report.Step, report.StepsPerEpoch, loss, ce, fr, lr, report.ImagesPerSecond);
                }
                lastLoss = sumLoss / step;
                lastCe = sumCe / step;
                lastFr = sumFr / step;
                _logger.LogInformation("Epoch {Epoch}/{Epochs}: loss {Loss:F4} (CE {Ce:F4}, FR {Fr:F4}), lr {Lr:G3}",
                    epoch + 1, Options.Epochs, lastLoss, lastCe, lastFr, lr);
                if (Options.CheckpointDirectory is { } d) TrainingState.Save(d, _prompts, optimizer, epoch + 1, Options.Seed);
            }
        }
        finally
        {
            _prompts.eval();
        }
        return new TrainingSummary(Options.Epochs, start, steps, lastLoss, lastCe, lastFr, clock.Elapsed);
    }

    /// <summary>
    /// Zero-shot top-1 accuracy of the prompted model (prompts as they are, eval transform) on <paramref name="data"/>,
    /// with the given class names and templates.
    /// </summary>
    public static double Evaluate(DeepPromptInjector prompts, ILabeledImageSource data, IReadOnlyList<string>? templates = null,
        int batchSize = 64, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(data);
        var clip = prompts.Clip;
        using var classifier = ZeroShotClassifier.Create(clip, data.ClassNames, templates ?? PromptTemplates.APhotoOfA, imageEncoder: prompts.EncodeImage);
        var loader = new BatchLoader(data, clip.ImageProcessor, new BatchLoaderOptions { BatchSize = batchSize, Shuffle = false, Augment = false });
        long correct = 0, total = 0;
        using var noGrad = no_grad();
        foreach (var batch in loader.Epoch(0, cancellationToken))
        {
            using var b = batch;
            using var scope = NewDisposeScope();
            var predicted = classifier.PredictIndices(batch.Images.to(clip.DType, clip.Device)).cpu();
            correct += predicted.eq(batch.Labels).sum().item<long>();
            total += batch.Count;
        }
        return total == 0 ? double.NaN : (double)correct / total;
    }
}
