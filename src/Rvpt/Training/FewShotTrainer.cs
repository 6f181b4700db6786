using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Few-shot prompt tuning: trains a <see cref="DeepPromptInjector"/>'s prompts with a <see cref="RepulsiveLoss"/> on a
/// labelled image set, with CoOp's recipe (SGD, cosine schedule with warm-up, random resized crop + flip). Every step
/// runs in its own dispose scope; the prompts and optimiser state are checkpointed atomically after each epoch (and,
/// optionally, every few steps, and on cancellation) and a rerun with the same checkpoint folder resumes where it
/// stopped, bit for bit. See docs/reliability.md.
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

        var clip = _prompts.Clip;
        var clock = Stopwatch.StartNew();
        _prompts.SetClasses(_classNames, _templates); // saved with the prompts, for classifying with them later
        using var classifier = ZeroShotClassifier.Create(clip, _classNames, _templates);
        var text = classifier.ClassEmbeddings;
        using var optimizer = new PromptSgd(_prompts.Prompts, Options.Momentum, Options.WeightDecay);
        var schedule = new CosineWarmupSchedule(Options);
        var loader = new BatchLoader(data, clip.ImageProcessor, new BatchLoaderOptions
        {
            BatchSize = Options.BatchSize, Shuffle = true, Augment = Options.Augment, Seed = Options.Seed,
            // CoOp (Dassl) drops the incomplete last batch only when the set holds at least one full batch.
            DropLast = Options.DropLast && data.Count >= Options.BatchSize,
        });
        var run = TrainingRun.Describe(Options, _loss, _prompts, data, _templates);
        using var frozenCache = Options.CacheFrozenClassTokens && !Options.Augment ? new FrozenClassTokenCache(data.Count) : null;
        if (Options.CacheFrozenClassTokens && Options.Augment)
            _logger.LogInformation("CacheFrozenClassTokens has no effect with augmentation on: every epoch sees other crops.");

        var start = new TrainingPosition(0, 0);
        var dir = Options.CheckpointDirectory;
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
            start = TrainingState.TryLoad(dir, _prompts, optimizer, run);
            if (start.Epoch > Options.Epochs || start.Step >= loader.BatchesPerEpoch || (start.Epoch == Options.Epochs && start.Step > 0))
                throw new InvalidDataException($"{Path.Combine(dir, TrainingState.FileName)}: position {start} does not lie within this run of {Options.Epochs} epochs of {loader.BatchesPerEpoch} steps.");
            if (start != default) _logger.LogInformation("Resuming from {Dir}: {Position}.", dir, start);
        }

        int steps = 0;
        long frozenImages = 0;
        double lastLoss = double.NaN, lastCe = double.NaN, lastFr = double.NaN;
        var position = start; // state of the prompts and optimiser in memory
        var saved = start;    // state in the checkpoint file
        var previousComputeDType = _prompts.ComputeDType;
        if (Options.ComputeDType is { } computeDType)
        {
            _prompts.SetComputeDType(computeDType);
            _logger.LogInformation("Mixed precision: the image tower computes in {Compute}, prompts in {Master}, the loss in Float32.",
                computeDType, _prompts.Prompts.dtype);
        }
        _prompts.train();
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
                    var (loss, ce, fr, frozenRun) = Step(batch, data, text, optimizer, frozenCache, epoch, step, lr);
                    frozenImages += frozenRun;
                    step++;
                    steps++;
                    position = new TrainingPosition(epoch, step);
                    sumLoss += loss;
                    sumCe += ce;
                    sumFr += fr;
                    var report = new TrainingProgress(epoch + 1, Options.Epochs, step, loader.BatchesPerEpoch, loss, ce, fr, lr,
                        batch.Count / Math.Max(stepClock.Elapsed.TotalSeconds, 1e-9));
                    progress?.Report(report);
                    _logger.LogDebug("epoch {Epoch}/{Epochs} step {Step}/{Steps}: loss {Loss:F4} (CE {Ce:F4}, FR {Fr:F4}) lr {Lr:G3}, {Ips:F1} img/s",
                        report.Epoch, report.Epochs, report.Step, report.StepsPerEpoch, loss, ce, fr, lr, report.ImagesPerSecond);
                    if (dir is not null && Options.CheckpointEverySteps > 0 && step % Options.CheckpointEverySteps == 0 && step < loader.BatchesPerEpoch)
                    {
                        TrainingState.Save(dir, _prompts, optimizer, position, run);
                        saved = position;
                    }
                }
                int stepsThisEpoch = step - firstStep;
                lastLoss = sumLoss / stepsThisEpoch;
                lastCe = sumCe / stepsThisEpoch;
                lastFr = sumFr / stepsThisEpoch;
                _logger.LogInformation("Epoch {Epoch}/{Epochs}: loss {Loss:F4} (CE {Ce:F4}, FR {Fr:F4}), lr {Lr:G3}",
                    epoch + 1, Options.Epochs, lastLoss, lastCe, lastFr, lr);
                position = new TrainingPosition(epoch + 1, 0);
                if (dir is not null)
                {
                    TrainingState.Save(dir, _prompts, optimizer, position, run);
                    saved = position;
                }
            }
        }
        catch (OperationCanceledException) when (dir is not null && cancellationToken.IsCancellationRequested && position != saved)
        {
            // The steps done so far are complete and good: keep them. A cancel right after an epoch's last step is the epoch's end.
            if (position.Step >= loader.BatchesPerEpoch) position = new TrainingPosition(position.Epoch + 1, 0);
            TrainingState.Save(dir, _prompts, optimizer, position, run);
            _logger.LogInformation("Cancelled; the state {Position} is saved in {Dir}.", position, dir);
            throw;
        }
        finally
        {
            _prompts.eval();
            _prompts.SetComputeDType(previousComputeDType);
        }
        return new TrainingSummary(Options.Epochs, start.Epoch, steps, lastLoss, lastCe, lastFr, clock.Elapsed)
        {
            ResumedFromStep = start.Step,
            FrozenImagesEncoded = frozenImages,
        };
    }

    /// <summary>
    /// One step in its own dispose scope; returns the loss terms and the number of images run through the frozen branch
    /// (0 when all came from the cache). Throws before the update if anything is non-finite.
    /// </summary>
    private (double Loss, double CrossEntropy, double Repelling, int FrozenImages) Step(ImageBatch batch, ILabeledImageSource data, Tensor text,
        PromptSgd optimizer, FrozenClassTokenCache? frozenCache, int epoch, int step, double lr)
    {
        var clip = _prompts.Clip;
        var where = $"epoch {epoch + 1}, step {step + 1}";
        using var scope = NewDisposeScope();
        _prompts.SeedDropout(SeedMixer.Mix(SeedMixer.Mix(Options.Seed, epoch), step)); // dropout masks per step
        var finiteRows = batch.Images.isfinite().flatten(1).all(1).data<bool>().ToArray();
        if (finiteRows.Contains(false))
        {
            var bad = Enumerable.Range(0, finiteRows.Length).Where(i => !finiteRows[i]).ToArray();
            throw new InvalidDataException(
                $"Training stopped at {where}: {bad.Length} input image(s) hold NaN or infinite values: " +
                string.Join(", ", bad.Take(5).Select(i => data.Describe(batch.Indices[i]))) + (bad.Length > 5 ? ", ..." : "") +
                $". {LastGoodState()}");
        }
        var images = batch.Images.to(clip.DType, clip.Device);
        var labels = batch.Labels.to(clip.Device);
        var trunk = _prompts.RunSharedTrunk(images);
        int frozenImages = batch.Count;
        Tensor frozen;
        if (frozenCache is null) frozen = _prompts.RunFrozen(trunk);
        else
        {
            var before = frozenCache.ImagesEncoded;
            frozen = frozenCache.GetOrCompute(batch.Indices, () => _prompts.RunFrozen(trunk));
            frozenImages = (int)(frozenCache.ImagesEncoded - before);
        }
        var prompted = _prompts.RunPrompted(trunk);
        var result = _loss.Compute(prompted, frozen, text, labels, clip.LogitScale);
        // One read (one device synchronisation) for the three terms.
        var terms = stack(new[] { result.Total.detach(), result.CrossEntropy.detach(), result.Repelling.detach() })
            .to(ScalarType.Float32, CPU).data<float>().ToArray();
        double loss = terms[0], ce = terms[1], fr = terms[2];
        if (!double.IsFinite(loss))
            throw new InvalidOperationException(
                $"The loss became {loss} at {where} (cross-entropy {ce}, repelling {fr}, learning rate {lr}). {LastGoodState()}" +
                " Lower the learning rate or check the inputs.");
        optimizer.ZeroGrad();
        result.Total.backward();
        if (_prompts.Prompts.grad is not { } grad || !grad.isfinite().all().item<bool>())
            throw new InvalidOperationException(
                $"The prompts' gradient has NaN or infinite values at {where} (loss {loss}, learning rate {lr}). {LastGoodState()}");
        optimizer.Step(lr);
        if (!_prompts.Prompts.isfinite().all().item<bool>())
            throw new InvalidOperationException(
                $"The SGD update made the prompts NaN or infinite at {where} (loss {loss}, learning rate {lr}); the prompts in memory are unusable. {LastGoodState()}" +
                " Lower the learning rate.");
        return (loss, ce, fr, frozenImages);
    }

    private string LastGoodState() => Options.CheckpointDirectory is { } dir
        ? $"The last good state is in {Path.Combine(dir, TrainingState.FileName)}."
        : "No checkpoint folder was set.";

    private void CheckClasses(ILabeledImageSource data)
    {
        if (data.ClassNames.SequenceEqual(_classNames)) return;
        var count = Math.Min(data.ClassNames.Count, _classNames.Count);
        var first = Enumerable.Range(0, count).FirstOrDefault(i => data.ClassNames[i] != _classNames[i], -1);
        var detail = first >= 0
            ? $"class {first} is '{data.ClassNames[first]}' in the data but '{_classNames[first]}' in the trainer"
            : $"the data has {data.ClassNames.Count} classes, the trainer {_classNames.Count}";
        throw new ArgumentException(
            $"The data's class names differ from the trainer's: {detail}. Data: [{Preview(data.ClassNames)}]; trainer: [{Preview(_classNames)}].", nameof(data));

        static string Preview(IReadOnlyList<string> names) => string.Join(", ", names.Take(8)) + (names.Count > 8 ? $", ... ({names.Count} in all)" : "");
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
