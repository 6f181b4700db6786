namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="CleanClip"/>. Defaults are the RVPT paper's CleanCLIP runs (Bansal et al., ICCV 2023, on
/// CC3M-scale clean pairs): AdamW at lr 5e-6 with CLIP's betas, batch 64, 10 epochs, 50 warm-up steps (CleanCLIP's
/// README), <c>lambda1 = lambda2 = 1</c>; <see cref="PaperForWaNetAndIssba"/> uses the paper's 3e-6 for WaNet and ISSBA.
/// The synthetic lab's scaled settings (fewer epochs, larger learning rates chosen on validation) are set by
/// <c>DefenceSuiteOptions.CleanClip</c>, not here.
/// </summary>
public sealed record CleanClipOptions
{
    /// <summary>
    /// The optimiser, schedule, batch, epochs, trainable towers and seed, shared with <see cref="ContrastiveFineTuner"/>.
    /// Defaults: the paper's lr 5e-6, 10 epochs, batch 64, and CleanCLIP's 50 warm-up steps (others as
    /// <see cref="ContrastiveFineTuningOptions"/>).
    /// </summary>
    public ContrastiveFineTuningOptions FineTuning { get; init; } = new() { LearningRate = 5e-6, Epochs = 10, BatchSize = 64, WarmupSteps = 50 };

    /// <summary>
    /// The paper's settings for the WaNet and ISSBA backdoors: the defaults with lr 3e-6.
    /// </summary>
    public static CleanClipOptions PaperForWaNetAndIssba { get; } = new() { FineTuning = new() { LearningRate = 3e-6, Epochs = 10, BatchSize = 64, WarmupSteps = 50 } };

    /// <summary>
    /// Make each in-modality term symmetric (the mean of both directions) instead of CleanCLIP's one direction
    /// (plain view against augmented view). Default false.
    /// </summary>
    public bool SymmetricInModality { get; init; }

    /// <summary><c>lambda1</c>: weight of the multimodal (image-caption) InfoNCE. Default 1.</summary>
    public double MultimodalWeight { get; init; } = 1.0;

    /// <summary><c>lambda2</c>: weight of the in-modality (image-image plus text-text) InfoNCE. Default 1.</summary>
    public double InModalityWeight { get; init; } = 1.0;

    /// <summary>
    /// How the augmented image view is made. Default <see cref="CleanClipImageView.AutoAugment"/>, as CleanCLIP's code
    /// (torchvision's <c>AutoAugment()</c> on the stored image, then CLIP's preprocessing);
    /// <see cref="CleanClipImageView.RandomResizedCropFlip"/> is Rvpt's earlier random resized crop + flip.
    /// </summary>
    public CleanClipImageView AugmentedImageView { get; init; } = CleanClipImageView.AutoAugment;

    /// <summary>
    /// Settings of the <see cref="CleanClipImageView.AutoAugment"/> view; <see langword="null"/> means
    /// <see cref="AutoAugmentOptions"/>' defaults (torchvision's: the ImageNet policy). Unused by the other view.
    /// </summary>
    public AutoAugmentOptions? AutoAugment { get; init; }

    /// <summary>
    /// Settings of the <see cref="CleanClipImageView.RandomResizedCropFlip"/> view (random resized crop + horizontal
    /// flip); <see langword="null"/> means <see cref="CoOpAugmentationOptions"/>' defaults (scale 0.08-1, flip 0.5).
    /// Unused by the default AutoAugment view.
    /// </summary>
    public CoOpAugmentationOptions? ImageAugmentation { get; init; }

    /// <summary>The caption augmentation of the second view. Default: delete each word with probability 0.1, one swap.</summary>
    public CaptionAugmentationOptions CaptionAugmentation { get; init; } = new();

    /// <summary>
    /// Clamp the (log) logit scale to [0, ln 100] after every step when it trains, as CLIP and CleanCLIP do. Default true.
    /// </summary>
    public bool ClampLogitScale { get; init; } = true;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    /// <exception cref="ArgumentException">An augmentation setting is out of range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(FineTuning);
        FineTuning.Validate();
        if (!(MultimodalWeight >= 0) || double.IsInfinity(MultimodalWeight)) throw new ArgumentOutOfRangeException(nameof(MultimodalWeight), MultimodalWeight, "Must be finite and >= 0.");
        if (!(InModalityWeight >= 0) || double.IsInfinity(InModalityWeight)) throw new ArgumentOutOfRangeException(nameof(InModalityWeight), InModalityWeight, "Must be finite and >= 0.");
        if (MultimodalWeight == 0 && InModalityWeight == 0) throw new ArgumentOutOfRangeException(nameof(InModalityWeight), InModalityWeight, "At least one loss weight must be > 0.");
        ArgumentNullException.ThrowIfNull(CaptionAugmentation);
        if (!Enum.IsDefined(AugmentedImageView)) throw new ArgumentOutOfRangeException(nameof(AugmentedImageView), AugmentedImageView, "Not a defined view.");
        AutoAugment?.Validate();
        ImageAugmentation?.Validate();
        CaptionAugmentation.Validate();
    }
}
