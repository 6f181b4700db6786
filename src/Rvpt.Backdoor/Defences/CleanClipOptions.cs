namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="CleanClip"/>. Defaults follow CleanCLIP (Bansal et al., ICCV 2023) where they carry over
/// to small clean sets: AdamW at 1e-5 with CLIP's betas, batch 64, 10 epochs, <c>lambda1 = lambda2 = 1</c>.
/// </summary>
public sealed record CleanClipOptions
{
    /// <summary>Peak AdamW learning rate. Default 1e-5.</summary>
    public double LearningRate { get; init; } = 1e-5;

    /// <summary>Epochs. Default 10.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Pairs per step (the negatives of all three InfoNCE terms are the rest of the batch). Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>AdamW decoupled weight decay. Default 0.1.</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>AdamW beta1. Default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW beta2. Default 0.98 (CLIP's).</summary>
    public double Beta2 { get; init; } = 0.98;

    /// <summary>AdamW epsilon. Default 1e-6 (CLIP's).</summary>
    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Linear warm-up steps before the per-step cosine decay (same schedule as <see cref="ContrastiveFineTuner"/>). Default 0.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Which weights train. Default all (CleanCLIP fine-tunes the whole model).</summary>
    public ClipTowers Trainable { get; init; } = ClipTowers.All;

    /// <summary><c>lambda1</c>: weight of the multimodal (image-caption) InfoNCE. Default 1.</summary>
    public double MultimodalWeight { get; init; } = 1.0;

    /// <summary><c>lambda2</c>: weight of the in-modality (image-image plus text-text) InfoNCE. Default 1.</summary>
    public double InModalityWeight { get; init; } = 1.0;

    /// <summary>
    /// The image augmentation of the second view (random resized crop + horizontal flip);
    /// <see langword="null"/> means <see cref="CoOpAugmentationOptions"/>' defaults (scale 0.08-1, flip 0.5).
    /// </summary>
    public CoOpAugmentationOptions? ImageAugmentation { get; init; }

    /// <summary>The caption augmentation of the second view. Default: delete each word with probability 0.1, one swap.</summary>
    public CaptionAugmentationOptions CaptionAugmentation { get; init; } = new();

    /// <summary>
    /// Clamp the (log) logit scale to [0, ln 100] after every step when it trains, as CLIP and CleanCLIP do. Default true.
    /// </summary>
    public bool ClampLogitScale { get; init; } = true;

    /// <summary>Seed of the shuffling and of both augmentations. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Checks the values.</summary>
    /// <returns>This instance.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public CleanClipOptions Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Must be > 0.");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Must be >= 1.");
        if (BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "A contrastive batch needs >= 2 pairs.");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Must be >= 0.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "Must be >= 0.");
        if (!(MultimodalWeight >= 0) || double.IsInfinity(MultimodalWeight)) throw new ArgumentOutOfRangeException(nameof(MultimodalWeight), MultimodalWeight, "Must be finite and >= 0.");
        if (!(InModalityWeight >= 0) || double.IsInfinity(InModalityWeight)) throw new ArgumentOutOfRangeException(nameof(InModalityWeight), InModalityWeight, "Must be finite and >= 0.");
        if (MultimodalWeight == 0 && InModalityWeight == 0) throw new ArgumentOutOfRangeException(nameof(InModalityWeight), InModalityWeight, "At least one loss weight must be > 0.");
        ArgumentNullException.ThrowIfNull(CaptionAugmentation);
        ImageAugmentation?.Validate();
        CaptionAugmentation.Validate();
        return this;
    }

    /// <summary>The equivalent optimiser and schedule settings of <see cref="ContrastiveFineTuner"/>.</summary>
    public ContrastiveFineTuningOptions ToFineTuningOptions() => new()
    {
        LearningRate = LearningRate,
        Epochs = Epochs,
        BatchSize = BatchSize,
        WeightDecay = WeightDecay,
        Beta1 = Beta1,
        Beta2 = Beta2,
        Epsilon = Epsilon,
        WarmupSteps = WarmupSteps,
        Trainable = Trainable,
        Seed = Seed,
    };
}
