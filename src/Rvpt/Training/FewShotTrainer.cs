using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Few-shot prompt tuning: trains a <see cref="DeepPromptInjector"/>'s prompts with a <see cref="RepulsiveLoss"/> on a
/// labelled image set, with CoOp's recipe (SGD, cosine schedule with warm-up, random resized crop + flip).
/// <see cref="Fit"/> is the loop over epochs and batches; each step is an <see cref="RvptStep"/> (the one the benchmarks
/// time) in its own dispose scope. The prompts and optimiser state are checkpointed atomically after each epoch (and,
/// optionally, every few steps, and on cancellation; <see cref="TrainingCheckpointer"/>) and a rerun with the same
/// checkpoint folder resumes where it stopped, bit for bit. See docs/reliability.md.
/// </summary>
public sealed class FewShotTrainer
{
    private readonly DeepPromptInjector _prompts;
    private readonly RepulsiveLoss _loss;
    private readonly IReadOnlyList<string> _classNames;
    private readonly IReadOnlyList<string> _templates;
    private readonly ILogger _logger;
    private readonly ILabeledImageSource? _validation;

    internal FewShotTrainer(DeepPromptInjector prompts, RepulsiveLoss loss, IReadOnlyList<string> classNames,
        IReadOnlyList<string> templates, TrainingOptions options, ILogger logger, ILabeledImageSource? validation = null)
    {
        _validation = validation;
        _prompts = prompts;
        _loss = loss;
        _classNames = classNames;
        _templates = templates;
        options.Validate();
        Options = options;
        _logger = logger;
    }

    /// <summary>Starts a fluent builder.</summary>
    public static FewShotTrainerBuilder For(ClipModel clip, DeepPromptInjector prompts) => new(clip, prompts);

    /// <summary>The training settings.</summary>
    public TrainingOptions Options { get; }

    /// <summary>
    /// Trains on <paramref name="data"/> (labels index the trainer's class names). Reports after every step. With a
    /// checkpoint folder, the state is written atomically after every epoch (and every
    /// <see cref="TrainingOptions.CheckpointEverySteps"/> steps), and a rerun resumes from it, bit for bit.
    /// </summary>
    /// <remarks>
    /// Cancellation is honoured between steps: the step in progress finishes, the state after it is written (with a
    /// checkpoint folder), and <see cref="OperationCanceledException"/> is thrown. Every step checks its input images,
    /// loss, gradient and updated prompts for NaN or infinity and stops before anything non-finite can be saved.
    /// </remarks>
    /// <exception cref="ArgumentException">The data's class names differ from the trainer's, or the data is empty.</exception>
    /// <exception cref="InvalidDataException">An input image holds NaN or infinite values (the message names the
    /// epoch, step and images), an image cannot be read, or the checkpoint folder holds a damaged state or one written
    /// with other settings.</exception>
    /// <exception cref="InvalidOperationException">The loss, the gradient or the updated prompts became NaN or
    /// infinite; the message names the epoch and step. The checkpoint keeps the last good state.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingSummary Fit(ILabeledImageSource data, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckClasses(data);
        if (data.Count == 0) throw new ArgumentException("The training set is empty.", nameof(data));
        if (_validation is not null)
        {
            CheckClasses(_validation, "validation set");
            if (_validation.Count == 0) throw new ArgumentException("The validation set is empty.", nameof(data));
        }

        var clock = Stopwatch.StartNew();
        var clip = _prompts.Clip;
        _prompts.SetClasses(_classNames, _templates); // saved with the prompts, for classifying with them later
        using var classifier = ZeroShotClassifier.Create(clip, _classNames, _templates);
        using var optimizer = IPromptOptimizer.Create(_prompts.Prompts, Options);
        var schedule = new CosineWarmupSchedule(Options);
        var loader = new BatchLoader(data, clip.ImageProcessor, Options.LoaderOptions(data.Count));
        var caches = TrainingCachePlan.For(Options, _prompts, data.Count, _logger);
        using var trunkCache = caches.SharedTrunk ? new SharedTrunkCache(data.Count) : null;
        using var frozenCache = caches.FrozenClassTokens ? new FrozenClassTokenCache(data.Count) : null;
        var checkpoint = new TrainingCheckpointer(Options, _prompts, optimizer, TrainingRun.Describe(Options, _loss, _prompts, data, _templates),
            loader.BatchesPerEpoch, _logger);
        var start = checkpoint.Resume();
        var rvptStep = new RvptStep(_prompts, _loss, classifier.ClassEmbeddings, optimizer, Options.Seed, trunkCache, frozenCache,
            data.Describe, checkpoint.LastGoodState);

        int steps = 0;
        long trunkImages = 0, frozenImages = 0;
        double lastLoss = double.NaN, lastCe = double.NaN, lastFr = double.NaN;
        var position = start; // state of the prompts and optimiser in memory
        var validation = _validation is null ? null : new ValidationTracker(Options.EarlyStoppingPatience);
        using var mode = new PromptTrainingMode(_prompts, Options.ComputeDType, _logger);
        try
        {
            for (int epoch = start.Epoch; epoch < Options.Epochs; epoch++)
            {
                double lr = schedule.LearningRateAt(epoch);
                double sumLoss = 0, sumCe = 0, sumFr = 0;
                int firstStep = epoch == start.Epoch ? start.Step : 0;
                int step = firstStep;
                foreach (var batch in loader.Epoch(epoch, firstStep, cancellationToken))
                {
                    using var batchScope = batch;
                    cancellationToken.ThrowIfCancellationRequested();
                    var stepClock = Stopwatch.StartNew();
                    var result = rvptStep.Run(batch, epoch, step, lr);
                    trunkImages += result.TrunkImages;
                    frozenImages += result.FrozenImages;
                    step++;
                    steps++;
                    position = new TrainingPosition(epoch, step);
                    sumLoss += result.Loss;
                    sumCe += result.CrossEntropy;
                    sumFr += result.Repelling;
                    Report(progress, new TrainingProgress(epoch + 1, Options.Epochs, step, loader.BatchesPerEpoch, result.Loss, result.CrossEntropy,
                        result.Repelling, lr, batch.Count / Math.Max(stepClock.Elapsed.TotalSeconds, 1e-9)));
                    checkpoint.AfterStep(position);
                }
                int stepsThisEpoch = step - firstStep;
                if (stepsThisEpoch > 0) // 0 when resuming at an epoch's end (cancelled while validating it)
                {
                    lastLoss = sumLoss / stepsThisEpoch;
                    lastCe = sumCe / stepsThisEpoch;
                    lastFr = sumFr / stepsThisEpoch;
                }
                _logger.LogInformation("Epoch {Epoch}/{Epochs}: loss {Loss:F4} (CE {Ce:F4}, FR {Fr:F4}), lr {Lr:G3}",
                    epoch + 1, Options.Epochs, lastLoss, lastCe, lastFr, lr);
                // Validate before the epoch is saved as complete: a cancellation during validation then resumes at this
                // epoch's end and validates it again, so no epoch's validation (log line, early-stopping record) is lost.
                bool stop = validation is not null && Validate(validation, epoch, loader.BatchesPerEpoch, lr, progress, cancellationToken);
                position = new TrainingPosition(epoch + 1, 0);
                checkpoint.AfterEpoch(position);
                if (stop) break;
            }
            validation?.RestoreBest(_prompts);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && checkpoint.HasUnsavedSteps(position))
        {
            checkpoint.SaveCancelled(position, epochEndNeedsValidation: validation is not null); // the steps done so far are complete and good: keep them
            throw;
        }
        return new TrainingSummary(Options.Epochs, start.Epoch, steps, lastLoss, lastCe, lastFr, clock.Elapsed)
        {
            ResumedFromStep = start.Step,
            SharedTrunkImagesEncoded = trunkImages,
            FrozenImagesEncoded = frozenImages,
            ValidationAccuracies = validation?.Accuracies ?? [],
            BestEpoch = validation?.BestEpoch,
            StoppedEarly = validation?.StoppedEarly ?? false,
        };
    }

    /// <summary>Measures the validation accuracy after epoch <paramref name="epoch"/> (0-based), reports it, and says whether to stop early.</summary>
    private bool Validate(ValidationTracker tracker, int epoch, int steps, double lr, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        _prompts.eval(); // no prompt dropout while measuring
        double accuracy;
        try
        {
            accuracy = PromptedAccuracy.Evaluate(_prompts, _validation!, _templates, Math.Max(Options.BatchSize, 32), cancellationToken);
        }
        finally
        {
            _prompts.train();
        }
        _logger.LogInformation("Epoch {Epoch}/{Epochs}: validation accuracy {Accuracy:P2}", epoch + 1, Options.Epochs, accuracy);
        progress?.Report(new TrainingProgress(epoch + 1, Options.Epochs, steps, steps, double.NaN, double.NaN, double.NaN, lr, 0) { ValidationAccuracy = accuracy });
        var stop = tracker.Add(accuracy, epoch + 1, _prompts) && epoch + 1 < Options.Epochs;
        if (stop)
            _logger.LogInformation("Early stopping after epoch {Epoch}: no better validation accuracy for {Patience} epoch(s); keeping epoch {Best}'s prompts ({Accuracy:P2}).",
                epoch + 1, Options.EarlyStoppingPatience, tracker.BestEpoch, tracker.BestAccuracy);
        tracker.StoppedEarly = stop;
        return stop;
    }

    private void Report(IProgress<TrainingProgress>? progress, TrainingProgress report)
    {
        progress?.Report(report);
        _logger.LogDebug("epoch {Epoch}/{Epochs} step {Step}/{Steps}: loss {Loss:F4} (CE {Ce:F4}, FR {Fr:F4}) lr {Lr:G3}, {Ips:F1} img/s",
            report.Epoch, report.Epochs, report.Step, report.StepsPerEpoch, report.Loss, report.CrossEntropy, report.Repelling,
            report.LearningRate, report.ImagesPerSecond);
    }

    private void CheckClasses(ILabeledImageSource data, string what = "data")
    {
        if (data.ClassNames.SequenceEqual(_classNames)) return;
        var count = Math.Min(data.ClassNames.Count, _classNames.Count);
        var first = Enumerable.Range(0, count).FirstOrDefault(i => data.ClassNames[i] != _classNames[i], -1);
        var detail = first >= 0
            ? $"class {first} is '{data.ClassNames[first]}' in the data but '{_classNames[first]}' in the trainer"
            : $"the data has {data.ClassNames.Count} classes, the trainer {_classNames.Count}";
        throw new ArgumentException(
            $"The {what}'s class names differ from the trainer's: {detail}. Data: [{Preview(data.ClassNames)}]; trainer: [{Preview(_classNames)}].", nameof(data));

        static string Preview(IReadOnlyList<string> names) => string.Join(", ", names.Take(8)) + (names.Count > 8 ? $", ... ({names.Count} in all)" : "");
    }
}
