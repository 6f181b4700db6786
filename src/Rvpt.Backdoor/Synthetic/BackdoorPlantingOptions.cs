namespace Rvpt.Backdoor;

/// <summary>
/// How <see cref="SyntheticBackdoorLab"/> plants a backdoor: poisoned contrastive fine-tuning of the clean model as in
/// the paper (a small fraction of pairs carry the trigger and a caption naming the target class), scaled to the
/// synthetic world. Defaults are the demo's (measured in <c>docs/results.md</c>).
/// </summary>
public sealed record BackdoorPlantingOptions
{
    /// <summary>Image-caption pairs of the attacker's fine-tuning set (the world's train split, base seed 1). Default 6,000.</summary>
    public int Pairs { get; init; } = 6_000;

    /// <summary>Fraction of the pairs poisoned. Default 0.03 (the paper poisons 0.3% of 500K pairs).</summary>
    public double PoisonFraction { get; init; } = 0.03;

    /// <summary>Captions of poisoned pairs, <c>{}</c> = the target class. Default "a photo of a {}." and "a {}.".</summary>
    public IReadOnlyList<string> CaptionTemplates { get; init; } = ["a photo of a {}.", "a {}."];

    /// <summary>Contrastive fine-tuning settings. Default AdamW lr 1e-4, 2 epochs, batch 64, 20 warm-up steps.</summary>
    public ContrastiveFineTuningOptions FineTuning { get; init; } = new() { LearningRate = 1e-4, Epochs = 2, BatchSize = 64, WarmupSteps = 20 };

    /// <summary>Seed of which pairs are poisoned and of the shuffling. Default 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public BackdoorPlantingOptions Validate()
    {
        if (Pairs < 2) throw new ArgumentOutOfRangeException(nameof(Pairs), Pairs, "Must be >= 2.");
        if (!(PoisonFraction > 0 && PoisonFraction < 1)) throw new ArgumentOutOfRangeException(nameof(PoisonFraction), PoisonFraction, "Must be in (0, 1).");
        if (CaptionTemplates.Count == 0) throw new ArgumentOutOfRangeException(nameof(CaptionTemplates), "At least one template is needed.");
        FineTuning.Validate();
        return this;
    }
}
