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
        Options = (options ?? new DefenceSuiteOptions()).Validate();
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
        _ => throw new ArgumentOutOfRangeException(nameof(defence), defence, "Unknown defence."),
    };

    /// <summary>Runs every configured defence and seed.</summary>
    /// <param name="model">The (backdoored) model; it needs a tokenizer. Not modified.</param>
    /// <param name="attack">Attack name for the report.</param>
    /// <param name="trigger">The trigger whose success is measured.</param>
    /// <param name="targetClass">Index of the attack's target class.</param>
    /// <param name="trainPool">Labelled images the shots are drawn from.</param>
    /// <param name="validation">Clean labelled images for hyper-parameter selection (disjoint from the test set).</param>
    /// <param name="test">Clean labelled test images (the trigger is applied for ASR).</param>
    /// <param name="cleanPairs">Clean image-caption pairs for CleanCLIP; required when it is among the defences.</param>
    /// <param name="progress">Receives the phase and overall fraction.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <exception cref="ArgumentException">Class names of the sets differ, or CleanCLIP is requested without pairs.</exception>
    public DefenceSuiteResult Run(ClipModel model, string attack, ITrigger trigger, int targetClass, ILabeledImageSource trainPool,
        ILabeledImageSource validation, ILabeledImageSource test, IImageCaptionSource? cleanPairs = null,
        IProgress<DefenceSuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trigger);
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
    private sealed class RunContext(DefenceSuite suite, ClipModel model, string attack, ITrigger trigger, int target,
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
                        _ => throw new ArgumentOutOfRangeException(nameof(defence), defence, "Unknown defence."),
                    }));
                }
            }
            if (_o.ResistivityImages > 0)
            {
                Report("perturbation resistivity (undefended)", 0);
                before = PerturbationResistivity.Measure(PerturbationResistivity.Plain(model), model.ImageProcessor, ResistivitySet(),
                    Perturbations.Standard(trigger), seed: 0, batchSize: _o.EvaluationBatchSize, device: model.Device, dtype: model.DType, cancellationToken: ct);
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

        private DefenceRun RunPrompts(DefenceKind defence, int seed, double alpha)
        {
            var name = DisplayName(defence);
            var shots = FewShotSampler.Sample(pool, _o.Shots, seed);
            var trials = new List<(string Candidate, double Accuracy)>();
            DeepPromptInjector? best = null;
            double bestAccuracy = double.NegativeInfinity, bestRate = double.NaN;
            try
            {
                foreach (var lr in _o.PromptLearningRates)
                {
                    var phase = $"{name} seed {seed}, lr={Format(lr)}";
                    Report(phase, 0);
                    var prompts = DeepPromptInjector.For(model).WithOptions(_prompts with { Seed = seed }).Build();
                    try
                    {
                        var trainer = FewShotTrainer.For(model, prompts)
                            .WithLoss(alpha == 0 ? RepulsiveLoss.PlainVpt : RepulsiveLoss.WithAlpha(alpha))
                            .WithClasses(pool.ClassNames, _o.Templates)
                            .WithOptions(_o.PromptTraining with { LearningRate = lr, Seed = seed, CheckpointDirectory = null })
                            .WithLogger(suite._logger)
                            .Build();
                        trainer.Fit(shots, new InlineProgress<TrainingProgress>(p => Report(phase, p.Fraction)), ct);
                        double accuracy = FewShotTrainer.Evaluate(prompts, validation, _o.Templates, _o.EvaluationBatchSize, ct);
                        trials.Add(($"lr={Format(lr)}", accuracy));
                        suite._logger.LogInformation("{Attack} {Defence} seed {Seed} lr {Lr}: validation accuracy {Accuracy:P2}", attack, name, seed, lr, accuracy);
                        if (accuracy > bestAccuracy)
                        {
                            best?.Dispose();
                            (best, bestAccuracy, bestRate) = (prompts, accuracy, lr);
                        }
                        else
                        {
                            prompts.Dispose();
                        }
                    }
                    catch
                    {
                        prompts.Dispose();
                        throw;
                    }
                    _done++;
                }

                Report($"{name} seed {seed}: test", 0);
                using var classifier = ZeroShotImageClassifier.WithPrompts(best!, test.ClassNames, _o.Templates);
                var metrics = Test(classifier);
                _done++;
                if (defence == DefenceKind.Rvpt)
                {
                    if (_o.PromptOutputDirectory is { } dir)
                    {
                        Directory.CreateDirectory(dir);
                        best!.Save(Path.Combine(dir, $"{Slug(attack)}-rvpt-seed{seed}.safetensors"));
                    }
                    if (_o.ResistivityImages > 0 && _after is null)
                    {
                        Report("perturbation resistivity (RVPT)", 0);
                        _after = PerturbationResistivity.Measure(PerturbationResistivity.Prompted(best!), model.ImageProcessor, ResistivitySet(),
                            Perturbations.Standard(trigger), seed: 0, batchSize: _o.EvaluationBatchSize, device: model.Device, dtype: model.DType, cancellationToken: ct);
                        _done++;
                    }
                }
                var config = new Dictionary<string, string>
                {
                    ["lr"] = Format(bestRate),
                    ["epochs"] = _o.PromptTraining.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["batch"] = _o.PromptTraining.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["shots"] = _o.Shots.ToString(CultureInfo.InvariantCulture),
                    ["D"] = best!.UnpromptedDepth.ToString(CultureInfo.InvariantCulture),
                    ["b"] = _prompts.Tokens.ToString(CultureInfo.InvariantCulture),
                    ["alpha"] = Format(alpha),
                };
                return new DefenceRun(attack, defence, seed, metrics, config, Trials(trials, bestRate), TimeSpan.Zero);
            }
            finally
            {
                best?.Dispose();
            }
        }

        private DefenceRun RunProbe(int seed)
        {
            var shots = FewShotSampler.Sample(pool, _o.Shots, seed);
            var trials = new List<(string Candidate, double Accuracy)>();
            LinearProbe? best = null;
            double bestAccuracy = double.NegativeInfinity, bestRate = double.NaN;
            try
            {
                foreach (var lr in _o.ProbeLearningRates)
                {
                    Report($"linear probe seed {seed}, lr={Format(lr)}", 0);
                    var probe = LinearProbe.Train(model, shots, _o.Probe with { LearningRate = lr, Seed = seed }, ct);
                    double accuracy = _evaluator.Evaluate(probe, validation, null, target, device: model.Device, dtype: model.DType, cancellationToken: ct).CleanAccuracy;
                    trials.Add(($"lr={Format(lr)}", accuracy));
                    if (accuracy > bestAccuracy)
                    {
                        best?.Dispose();
                        (best, bestAccuracy, bestRate) = (probe, accuracy, lr);
                    }
                    else
                    {
                        probe.Dispose();
                    }
                    _done++;
                }
                Report($"linear probe seed {seed}: test", 0);
                var metrics = Test(best!);
                _done++;
                var config = new Dictionary<string, string>
                {
                    ["lr"] = Format(bestRate),
                    ["epochs"] = _o.Probe.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["batch"] = _o.Probe.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["shots"] = _o.Shots.ToString(CultureInfo.InvariantCulture),
                };
                return new DefenceRun(attack, DefenceKind.LinearProbe, seed, metrics, config, Trials(trials, bestRate), TimeSpan.Zero);
            }
            finally
            {
                best?.Dispose();
            }
        }

        private DefenceRun RunCleanClip(int seed)
        {
            var trials = new List<(string Candidate, double Accuracy)>();
            ClipModel? best = null;
            double bestAccuracy = double.NegativeInfinity, bestRate = double.NaN;
            var baseOptions = _o.CleanClip;
            try
            {
                foreach (var lr in _o.CleanClipLearningRates)
                {
                    var phase = $"CleanCLIP seed {seed}, lr={Format(lr)}";
                    Report(phase, 0);
                    var copy = model.Clone();
                    try
                    {
                        var options = baseOptions with { FineTuning = baseOptions.FineTuning with { LearningRate = lr, Seed = seed } };
                        CleanClip.Fit(copy, pairs!, options,
                            new InlineProgress<FineTuningProgress>(p => Report(phase, (double)p.Step / p.TotalSteps)), ct, suite._logger);
                        using var classifier = ZeroShotImageClassifier.Create(copy, validation.ClassNames, _o.Templates);
                        double accuracy = _evaluator.Evaluate(classifier, validation, null, target, device: model.Device, dtype: model.DType, cancellationToken: ct).CleanAccuracy;
                        trials.Add(($"lr={Format(lr)}", accuracy));
                        if (accuracy > bestAccuracy)
                        {
                            best?.Dispose();
                            (best, bestAccuracy, bestRate) = (copy, accuracy, lr);
                        }
                        else
                        {
                            copy.Dispose();
                        }
                    }
                    catch
                    {
                        copy.Dispose();
                        throw;
                    }
                    _done++;
                }
                Report($"CleanCLIP seed {seed}: test", 0);
                using var bestClassifier = ZeroShotImageClassifier.Create(best!, test.ClassNames, _o.Templates);
                var metrics = Test(bestClassifier);
                _done++;
                var config = new Dictionary<string, string>
                {
                    ["lr"] = Format(bestRate),
                    ["epochs"] = baseOptions.FineTuning.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["batch"] = baseOptions.FineTuning.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["pairs"] = pairs!.Count.ToString(CultureInfo.InvariantCulture),
                };
                return new DefenceRun(attack, DefenceKind.CleanClip, seed, metrics, config, Trials(trials, bestRate), TimeSpan.Zero);
            }
            finally
            {
                best?.Dispose();
            }
        }

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

    /// <summary>Reports synchronously on the caller's thread.</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
