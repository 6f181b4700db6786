using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Fluent builder for <see cref="FewShotTrainer"/>:
/// <code>
/// var trainer = FewShotTrainer.For(clip, prompts).WithLoss(new RepulsiveLoss(2.0))
///     .WithClasses(classes, PromptTemplates.APhotoOfA).Epochs(50).BatchSize(32).Sgd(learningRate: 0.002)
///     .WithLogger(logger).Build();
/// </code>
/// </summary>
public sealed class FewShotTrainerBuilder
{
    private readonly DeepPromptInjector _prompts;
    private RepulsiveLoss _loss = new RepulsiveLoss();
    private IReadOnlyList<string>? _classes;
    private IReadOnlyList<string> _templates = PromptTemplates.APhotoOfA;
    private TrainingOptions _options = new();
    private ILogger _logger = NullLogger.Instance;
    private ILabeledImageSource? _validation;

    internal FewShotTrainerBuilder(ClipModel clip, DeepPromptInjector prompts)
    {
        ArgumentNullException.ThrowIfNull(clip);
        _prompts = prompts ?? throw new ArgumentNullException(nameof(prompts));
        if (!ReferenceEquals(prompts.Clip, clip)) throw new ArgumentException("The prompts were built for another ClipModel instance.", nameof(prompts));
    }

    /// <summary>The objective. Default: RVPT with alpha = 2.</summary>
    public FewShotTrainerBuilder WithLoss(RepulsiveLoss loss) { _loss = loss ?? throw new ArgumentNullException(nameof(loss)); return this; }

    /// <summary>Class names (label order) and prompt templates. Templates default to "a photo of a {}.".</summary>
    public FewShotTrainerBuilder WithClasses(IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null)
    {
        _classes = classNames ?? throw new ArgumentNullException(nameof(classNames));
        _templates = templates ?? PromptTemplates.APhotoOfA;
        return this;
    }

    /// <summary>Epochs. Default 50.</summary>
    public FewShotTrainerBuilder Epochs(int epochs) { _options = _options with { Epochs = epochs }; return this; }

    /// <summary>Batch size. Default 32.</summary>
    public FewShotTrainerBuilder BatchSize(int batchSize) { _options = _options with { BatchSize = batchSize }; return this; }

    /// <summary>SGD settings. Defaults: lr 0.002, momentum 0.9, weight decay 5e-4.</summary>
    public FewShotTrainerBuilder Sgd(double learningRate = 0.002, double momentum = 0.9, double weightDecay = 5e-4)
    {
        _options = _options with { LearningRate = learningRate, Momentum = momentum, WeightDecay = weightDecay };
        return this;
    }

    /// <summary>
    /// AdamW instead of SGD for the prompts (<see cref="PromptAdamW"/>, PyTorch's rule). Defaults: lr 0.002, weight decay
    /// 0.01 (decoupled), betas 0.9 and 0.999, epsilon 1e-8.
    /// </summary>
    public FewShotTrainerBuilder AdamW(double learningRate = 0.002, double weightDecay = 0.01, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _options = _options with
        {
            Optimizer = PromptOptimizer.AdamW, LearningRate = learningRate, WeightDecay = weightDecay, AdamBeta1 = beta1, AdamBeta2 = beta2, AdamEpsilon = epsilon,
        };
        return this;
    }

    /// <summary>
    /// A clean validation set (same classes as the training data, e.g. <see cref="TrainValidationSplit"/>'s): its
    /// accuracy is measured after every epoch and reported (<see cref="TrainingProgress.ValidationAccuracy"/>,
    /// <see cref="TrainingSummary.ValidationAccuracies"/>); with <paramref name="earlyStoppingPatience"/> &gt; 0 the run
    /// stops when it has not improved for that many epochs and keeps the best epoch's prompts. Not owned.
    /// </summary>
    public FewShotTrainerBuilder WithValidation(ILabeledImageSource validation, int earlyStoppingPatience = 0)
    {
        _validation = validation ?? throw new ArgumentNullException(nameof(validation));
        _options = _options with { EarlyStoppingPatience = earlyStoppingPatience };
        return this;
    }

    /// <summary>Constant warm-up before the cosine schedule. Defaults: 1 epoch at 1e-5.</summary>
    public FewShotTrainerBuilder Warmup(int epochs = 1, double learningRate = 1e-5)
    {
        _options = _options with { WarmupEpochs = epochs, WarmupLearningRate = learningRate };
        return this;
    }

    /// <summary>Random resized crop + flip on or off. Default on.</summary>
    public FewShotTrainerBuilder Augment(bool augment = true) { _options = _options with { Augment = augment }; return this; }

    /// <summary>Drop the last incomplete batch of an epoch when the set holds a full batch, as CoOp does. Default true.</summary>
    public FewShotTrainerBuilder DropLast(bool dropLast = true) { _options = _options with { DropLast = dropLast }; return this; }

    /// <summary>Seed of shuffling, augmentation and dropout. Default 1.</summary>
    public FewShotTrainerBuilder Seed(long seed) { _options = _options with { Seed = seed }; return this; }

    /// <summary>Folder for the resumable per-epoch checkpoint.</summary>
    public FewShotTrainerBuilder WithCheckpointDirectory(string directory) { _options = _options with { CheckpointDirectory = directory }; return this; }

    /// <summary>Also checkpoint every <paramref name="steps"/> steps within an epoch (0: epoch ends only, the default).</summary>
    public FewShotTrainerBuilder CheckpointEverySteps(int steps) { _options = _options with { CheckpointEverySteps = steps }; return this; }

    /// <summary>
    /// Mixed precision: the frozen CLIP image tower computes in <paramref name="computeDType"/> (default bfloat16), the
    /// prompts and the loss stay in float32. See <see cref="TrainingOptions.ComputeDType"/>.
    /// </summary>
    public FewShotTrainerBuilder MixedPrecision(ScalarType computeDType = ScalarType.BFloat16) { _options = _options with { ComputeDType = computeDType }; return this; }

    /// <summary>
    /// Reuse each sample's frozen-branch class tokens in later epochs (only with augmentation off; on by default). See
    /// <see cref="TrainingOptions.CacheFrozenClassTokens"/>.
    /// </summary>
    public FewShotTrainerBuilder CacheFrozenClassTokens(bool cache = true) { _options = _options with { CacheFrozenClassTokens = cache }; return this; }

    /// <summary>
    /// Reuse each sample's shared-trunk output in later epochs (only with augmentation off; on by default). See
    /// <see cref="TrainingOptions.CacheSharedTrunk"/>.
    /// </summary>
    public FewShotTrainerBuilder CacheSharedTrunk(bool cache = true) { _options = _options with { CacheSharedTrunk = cache }; return this; }

    /// <summary>
    /// Bytes the per-sample caches may hold together (default 2 GiB). See <see cref="TrainingOptions.CacheMemoryBudget"/>.
    /// </summary>
    public FewShotTrainerBuilder CacheMemoryBudget(long bytes) { _options = _options with { CacheMemoryBudget = bytes }; return this; }

    /// <summary>Uses complete options.</summary>
    public FewShotTrainerBuilder WithOptions(TrainingOptions options) { _options = options ?? throw new ArgumentNullException(nameof(options)); return this; }

    /// <summary>Logger for per-epoch (Information) and per-step (Debug) messages. Default: none.</summary>
    public FewShotTrainerBuilder WithLogger(ILogger logger) { _logger = logger ?? throw new ArgumentNullException(nameof(logger)); return this; }

    /// <summary>Builds the trainer.</summary>
    /// <exception cref="InvalidOperationException">No classes were given.</exception>
    public FewShotTrainer Build() => new(_prompts, _loss,
        _classes ?? throw new InvalidOperationException("Call WithClasses(classNames) before Build()."), _templates, _options, _logger, _validation);
}
