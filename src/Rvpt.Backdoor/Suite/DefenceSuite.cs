using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rvpt.Clip;

namespace Rvpt.Backdoor;

/// <summary>
/// Runs the defences of the paper's comparison (none, plain VPT, linear probe, CleanCLIP, RVPT) against one
/// backdoored model and trigger, and measures each on a test set: clean accuracy and attack success rate. Trained
/// defences choose their learning rate by clean accuracy on a separate clean validation set; attack success rate is
/// never looked at before the test. Few-shot defences train on <see cref="DefenceSuiteOptions.Shots"/> images per class
/// of the training pool; CleanCLIP fine-tunes a copy of the model on the clean pairs. The model is not modified.
/// </summary>
public sealed class DefenceSuite
{
    private readonly ILogger _logger;

    /// <summary>Creates a suite.</summary>
    public DefenceSuite(DefenceSuiteOptions? options = null, ILogger? logger = null)
    {
        Options = options ?? new DefenceSuiteOptions();
        Options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The settings.</summary>
    public DefenceSuiteOptions Options { get; }

    /// <summary>The report name of a defence: "none", "VPT", "linear probe", "CleanCLIP", "RVPT".</summary>
    public static string DisplayName(DefenceKind defence) => defence switch
    {
        DefenceKind.None => "none",
        DefenceKind.PlainVpt => "VPT",
        DefenceKind.LinearProbe => "linear probe",
        DefenceKind.CleanClip => "CleanCLIP",
        DefenceKind.Rvpt => "RVPT",
        DefenceKind.FullFineTuning => "fine-tuning",
        DefenceKind.RepulsiveFineTuning => "fine-tuning + FR",
        _ => throw new ArgumentOutOfRangeException(nameof(defence), defence, "Unknown defence."),
    };

    /// <summary>Runs every configured defence and seed on <paramref name="request"/>'s model and data.</summary>
    /// <param name="request">The model, the attack's trigger and target, and the data.</param>
    /// <param name="progress">Receives the phase and overall fraction.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <exception cref="ArgumentException">Class names of the sets differ, or CleanCLIP is requested without pairs.</exception>
    public DefenceSuiteResult Run(DefenceSuiteRequest request, IProgress<DefenceSuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Run(request.Model, request.Attack, request.Trigger, request.TargetClass, request.TrainPool, request.Validation, request.Test,
            request.CleanPairs, progress, cancellationToken);
    }

    /// <summary>The positional form of <see cref="Run(DefenceSuiteRequest, IProgress{DefenceSuiteProgress}?, CancellationToken)"/>
    /// (internal: samples/Rvpt.Experiments still calls it as it ran).</summary>
    /// <param name="model">The (backdoored) model; it needs a tokenizer. Not modified.</param>
    /// <param name="attack">Attack name for the report.</param>
    /// <param name="trigger">The trigger whose success is measured; null measures clean accuracy only (ASR is NaN),
    /// as on a clean model (see the lab's <c>PremiseCheck</c>).</param>
    /// <param name="targetClass">Index of the attack's target class.</param>
    /// <param name="trainPool">Labelled images the shots are drawn from.</param>
    /// <param name="validation">Clean labelled images for hyper-parameter selection (disjoint from the test set).</param>
    /// <param name="test">Clean labelled test images (the trigger is applied for ASR).</param>
    /// <param name="cleanPairs">Clean image-caption pairs for CleanCLIP; required when it is among the defences.</param>
    /// <param name="progress">Receives the phase and overall fraction.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <exception cref="ArgumentException">Class names of the sets differ, or CleanCLIP is requested without pairs.</exception>
    internal DefenceSuiteResult Run(ClipModel model, string attack, ITrigger? trigger, int targetClass, ILabeledImageSource trainPool,
        ILabeledImageSource validation, ILabeledImageSource test, IImageCaptionSource? cleanPairs = null,
        IProgress<DefenceSuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(attack);
        ArgumentNullException.ThrowIfNull(trainPool);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(test);
        var classes = test.ClassNames;
        if (!trainPool.ClassNames.SequenceEqual(classes) || !validation.ClassNames.SequenceEqual(classes))
            throw new ArgumentException("The training pool, validation and test sets must have the same class names in the same order.", nameof(trainPool));
        if (targetClass < 0 || targetClass >= classes.Count)
            throw new ArgumentOutOfRangeException(nameof(targetClass), targetClass, $"Must index one of the {classes.Count} classes.");
        if (Options.Defences.Contains(DefenceKind.CleanClip) && cleanPairs is null)
            throw new ArgumentException("CleanCLIP needs clean image-caption pairs.", nameof(cleanPairs));

        var context = new RunContext(this, model, attack, trigger, targetClass, trainPool, validation, test, cleanPairs, progress, cancellationToken);
        return context.Run();
    }

    /// <summary>The state of one <see cref="Run"/> call.</summary>
    private sealed class RunContext(DefenceSuite suite, ClipModel model, string attack, ITrigger? trigger, int target,
        ILabeledImageSource pool, ILabeledImageSource validation, ILabeledImageSource test, IImageCaptionSource? pairs,
        IProgress<DefenceSuiteProgress>? progress, CancellationToken ct)
    {
        private readonly DefenceSuiteOptions _o = suite.Options;
        private readonly BackdoorEvaluator _evaluator = new(model.ImageProcessor, suite.Options.EvaluationBatchSize);
        private readonly DeepPromptOptions _prompts = suite.Options.Prompts ?? DeepPromptOptions.ScaledTo(model.Config.Vision);
        private double _done;
        private double _total;
        private IReadOnlyDictionary<string, double[]>? _after;

        public DefenceSuiteResult Run()
        {
            _total = TotalUnits();
            var runs = new List<DefenceRun>();
            IReadOnlyDictionary<string, double[]>? before = null;
            foreach (var defence in _o.Defences)
            {
                if (defence == DefenceKind.None)
                {
                    runs.Add(Timed(() => RunNone()));
                    continue;
                }
                foreach (var seed in _o.Seeds)
                {
                    ct.ThrowIfCancellationRequested();
                    runs.Add(Timed(() => defence switch
                    {
                        DefenceKind.PlainVpt => RunPrompts(defence, seed, 0.0),
                        DefenceKind.Rvpt => RunPrompts(defence, seed, _o.Alpha),
                        DefenceKind.LinearProbe => RunProbe(seed),
                        DefenceKind.CleanClip => RunCleanClip(seed),
                        DefenceKind.FullFineTuning => RunFineTuning(defence, seed, 0.0),
                        DefenceKind.RepulsiveFineTuning => RunFineTuning(defence, seed, _o.Alpha),
                        _ => throw new ArgumentOutOfRangeException(nameof(defence), defence, "Unknown defence."),
                    }));
                }
            }
            if (_o.ResistivityImages > 0)
            {
                Report("perturbation resistivity (undefended)", 0);
                before = PerturbationResistivity.Measure(PerturbationResistivity.Plain(model), model.ImageProcessor, ResistivitySet(),
                    Perturbations.Standard(trigger is null ? [] : [trigger]), seed: 0, batchSize: _o.EvaluationBatchSize, device: model.Device, dtype: model.DType, cancellationToken: ct);
                _done++;
            }
            Report("done", 0);
            return new DefenceSuiteResult(runs, before, _after);
        }

        private DefenceRun Timed(Func<DefenceRun> run)
        {
            var clock = Stopwatch.StartNew();
            var r = run();
            return r with { Elapsed = clock.Elapsed };
        }

        private double TotalUnits()
        {
            double perSeed = 0;
            foreach (var d in _o.Defences)
            {
                perSeed += d switch
                {
                    DefenceKind.PlainVpt or DefenceKind.Rvpt => _o.PromptLearningRates.Count + 1,
                    DefenceKind.LinearProbe => _o.ProbeLearningRates.Count + 1,
                    DefenceKind.CleanClip => _o.CleanClipLearningRates.Count + 1,
                    DefenceKind.FullFineTuning or DefenceKind.RepulsiveFineTuning => _o.FineTuningLearningRates.Count + 1,
                    _ => 0,
                };
            }
            double total = perSeed * _o.Seeds.Count + (_o.Defences.Contains(DefenceKind.None) ? 1 : 0);
            if (_o.ResistivityImages > 0) total += 1 + (_o.Defences.Contains(DefenceKind.Rvpt) ? 1 : 0);
            return Math.Max(1, total);
        }

        private void Report(string phase, double inner) =>
            progress?.Report(new DefenceSuiteProgress($"{attack}: {phase}", Math.Clamp((_done + inner) / _total, 0, 1)));

        private DefenceRun RunNone()
        {
            Report("no defence", 0);
            using var classifier = ZeroShotImageClassifier.Create(model, test.ClassNames, _o.Templates);
            var metrics = Test(classifier);
            _done++;
            return new DefenceRun(attack, DefenceKind.None, 0, metrics, new Dictionary<string, string>(), [], TimeSpan.Zero);
        }

        private DefenceRun RunPrompts(DefenceKind defence, long seed, double alpha)
        {
            var name = DisplayName(defence);
            var shots = FewShotSampler.Sample(pool, _o.Shots, seed);
            var repelling = new Dictionary<double, double>();
            var (best, bestRate, trials) = Select($"{name} seed {seed}", _o.PromptLearningRates, (lr, phase) =>
            {
                var prompts = DeepPromptInjector.For(model).WithOptions(_prompts with { Seed = seed }).Build();
                try
                {
                    repelling[lr] = FewShotTrainer.For(model, prompts)
                        .WithLoss(new RepulsiveLoss(alpha))
                        .WithClasses(pool.ClassNames, _o.Templates)
                        .WithOptions(_o.PromptTraining with { LearningRate = lr, Seed = seed, CheckpointDirectory = null })
                        .WithLogger(suite._logger)
                        .Build()
                        .Fit(shots, new InlineProgress<TrainingProgress>(p => Report(phase, p.Fraction)), ct).FinalRepelling;
                    return (prompts, PromptedAccuracy.Evaluate(prompts, validation, _o.Templates, _o.EvaluationBatchSize, ct));
                }
                catch
                {
                    prompts.Dispose();
                    throw;
                }
            });
            using (best)
            {
                Report($"{name} seed {seed}: test", 0);
                using var classifier = ZeroShotImageClassifier.WithPrompts(best, test.ClassNames, _o.Templates);
                var metrics = Test(classifier);
                _done++;
                if (defence == DefenceKind.Rvpt)
                {
                    if (_o.PromptOutputDirectory is { } dir)
                    {
                        Directory.CreateDirectory(dir);
                        best.Save(Path.Combine(dir, $"{Slug(attack)}-rvpt-seed{seed}.safetensors"));
                    }
                    if (_o.ResistivityImages > 0 && _after is null)
                    {
                        Report("perturbation resistivity (RVPT)", 0);
                        _after = PerturbationResistivity.Measure(PerturbationResistivity.Prompted(best), model.ImageProcessor, ResistivitySet(),
                            Perturbations.Standard(trigger is null ? [] : [trigger]), seed: 0, batchSize: _o.EvaluationBatchSize, device: model.Device, dtype: model.DType, cancellationToken: ct);
                        _done++;
                    }
                }
                var config = new Dictionary<string, string>
                {
                    ["lr"] = Format(bestRate),
                    ["epochs"] = _o.PromptTraining.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["batch"] = _o.PromptTraining.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["shots"] = _o.Shots.ToString(CultureInfo.InvariantCulture),
                    ["D"] = best.UnpromptedDepth.ToString(CultureInfo.InvariantCulture),
                    ["b"] = _prompts.Tokens.ToString(CultureInfo.InvariantCulture),
                    ["alpha"] = Format(alpha),
                };
                return new DefenceRun(attack, defence, seed, metrics, config, trials, TimeSpan.Zero) { FinalRepelling = repelling[bestRate] };
            }
        }

        private DefenceRun RunProbe(long seed)
        {
            var shots = FewShotSampler.Sample(pool, _o.Shots, seed);
            var (best, bestRate, trials) = Select($"linear probe seed {seed}", _o.ProbeLearningRates, (lr, _) =>
            {
                var probe = LinearProbe.Train(model, shots, _o.Probe with { LearningRate = lr, Seed = seed }, ct);
                try
                {
                    return (probe, ValidationAccuracy(probe));
                }
                catch
                {
                    probe.Dispose();
                    throw;
                }
            });
            using (best)
            {
                Report($"linear probe seed {seed}: test", 0);
                var metrics = Test(best);
                _done++;
                var config = new Dictionary<string, string>
                {
                    ["lr"] = Format(bestRate),
                    ["epochs"] = _o.Probe.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["batch"] = _o.Probe.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["shots"] = _o.Shots.ToString(CultureInfo.InvariantCulture),
                };
                return new DefenceRun(attack, DefenceKind.LinearProbe, seed, metrics, config, trials, TimeSpan.Zero);
            }
        }

        private DefenceRun RunCleanClip(long seed)
        {
            var baseOptions = _o.CleanClip;
            var (best, bestRate, trials) = Select($"CleanCLIP seed {seed}", _o.CleanClipLearningRates, (lr, phase) =>
            {
                var copy = model.Clone();
                try
                {
                    var options = baseOptions with { FineTuning = baseOptions.FineTuning with { LearningRate = lr, Seed = seed } };
                    CleanClip.Fit(copy, pairs!, options, suite._logger,
                        new InlineProgress<FineTuningProgress>(p => Report(phase, (double)p.Step / p.TotalSteps)), ct);
                    using var classifier = ZeroShotImageClassifier.Create(copy, validation.ClassNames, _o.Templates);
                    return (copy, ValidationAccuracy(classifier));
                }
                catch
                {
                    copy.Dispose();
                    throw;
                }
            });
            using (best)
            {
                Report($"CleanCLIP seed {seed}: test", 0);
                using var bestClassifier = ZeroShotImageClassifier.Create(best, test.ClassNames, _o.Templates);
                var metrics = Test(bestClassifier);
                _done++;
                var config = new Dictionary<string, string>
                {
                    ["lr"] = Format(bestRate),
                    ["epochs"] = baseOptions.FineTuning.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["batch"] = baseOptions.FineTuning.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["pairs"] = pairs!.Count.ToString(CultureInfo.InvariantCulture),
                };
                return new DefenceRun(attack, DefenceKind.CleanClip, seed, metrics, config, trials, TimeSpan.Zero);
            }
        }

        private DefenceRun RunFineTuning(DefenceKind defence, long seed, double alpha)
        {
            var name = DisplayName(defence);
            var shots = FewShotSampler.Sample(pool, _o.Shots, seed);
            var options = _o.FineTuning with { Alpha = alpha, UnrepelledDepth = _prompts.UnpromptedDepth };
            var repelling = new Dictionary<double, double>();
            var (best, bestRate, trials) = Select($"{name} seed {seed}", _o.FineTuningLearningRates, (lr, phase) =>
            {
                var lastEpoch = new List<double>();
                var tuned = FullFineTuning.Train(model, shots, _o.Templates,
                    options with { Training = options.Training with { LearningRate = lr, Seed = seed } }, suite._logger,
                    new InlineProgress<TrainingProgress>(p =>
                    {
                        Report(phase, p.Fraction);
                        if (p.Epoch == p.Epochs) lastEpoch.Add(p.Repelling);
                    }), ct);
                repelling[lr] = lastEpoch.Count > 0 ? lastEpoch.Average() : double.NaN;
                try
                {
                    using var classifier = ZeroShotImageClassifier.Create(tuned, validation.ClassNames, _o.Templates);
                    return (tuned, ValidationAccuracy(classifier));
                }
                catch
                {
                    tuned.Dispose();
                    throw;
                }
            });
            using (best)
            {
                Report($"{name} seed {seed}: test", 0);
                using var classifier = ZeroShotImageClassifier.Create(best, test.ClassNames, _o.Templates);
                var metrics = Test(classifier);
                _done++;
                var config = new Dictionary<string, string>
                {
                    ["lr"] = Format(bestRate),
                    ["epochs"] = options.Training.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["batch"] = options.Training.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["shots"] = _o.Shots.ToString(CultureInfo.InvariantCulture),
                    ["D"] = options.UnrepelledDepth.ToString(CultureInfo.InvariantCulture),
                    ["alpha"] = Format(alpha),
                };
                return new DefenceRun(attack, defence, seed, metrics, config, trials, TimeSpan.Zero) { FinalRepelling = repelling[bestRate] };
            }
        }

        /// <summary>
        /// Trains one candidate per learning rate and keeps the one with the highest clean validation accuracy (ties go
        /// to the earlier); the others are disposed as soon as they lose. <paramref name="train"/> gets the rate and the
        /// phase text and returns the trained candidate with its validation accuracy (disposing it itself if it fails).
        /// </summary>
        private (T Best, double Rate, IReadOnlyList<SelectionTrial> Trials) Select<T>(string what, IReadOnlyList<double> rates,
            Func<double, string, (T Candidate, double Accuracy)> train) where T : class, IDisposable
        {
            var trials = new List<(string Candidate, double Accuracy)>();
            T? best = null;
            double bestAccuracy = double.NegativeInfinity, bestRate = double.NaN;
            try
            {
                foreach (var lr in rates)
                {
                    var phase = $"{what}, lr={Format(lr)}";
                    Report(phase, 0);
                    var (candidate, accuracy) = train(lr, phase);
                    trials.Add(($"lr={Format(lr)}", accuracy));
                    suite._logger.LogInformation("{Attack} {What} lr {Lr}: validation accuracy {Accuracy:P2}", attack, what, lr, accuracy);
                    if (accuracy > bestAccuracy)
                    {
                        best?.Dispose();
                        (best, bestAccuracy, bestRate) = (candidate, accuracy, lr);
                    }
                    else
                    {
                        candidate.Dispose();
                    }
                    _done++;
                }
                return (best!, bestRate, Trials(trials, bestRate));
            }
            catch
            {
                best?.Dispose();
                throw;
            }
        }

        private double ValidationAccuracy(IImageClassifier classifier) =>
            _evaluator.Evaluate(classifier, validation, null, target, device: model.Device, dtype: model.DType, cancellationToken: ct).CleanAccuracy;

        private BackdoorMetrics Test(IImageClassifier classifier) =>
            _evaluator.Evaluate(classifier, test, trigger, target, seed: 0, device: model.Device, dtype: model.DType, cancellationToken: ct);

        private ILabeledImageSource ResistivitySet() =>
            test.Count <= _o.ResistivityImages ? test : new SubsetSource(test, Enumerable.Range(0, _o.ResistivityImages));

        private static IReadOnlyList<SelectionTrial> Trials(List<(string Candidate, double Accuracy)> trials, double chosenRate)
        {
            var chosen = $"lr={Format(chosenRate)}";
            return trials.Select(t => new SelectionTrial(t.Candidate, t.Accuracy, t.Candidate == chosen)).ToArray();
        }
    }

    private static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Slug(string text) => new(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());
}
