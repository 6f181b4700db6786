namespace Rvpt.Backdoor.Lab;

/// <summary>
/// How <see cref="SyntheticBackdoorLab"/> plants a backdoor: poisoned fine-tuning of the clean model as in the paper
/// (a fraction of the attacker's pairs carry the trigger and a caption naming the target class), with the objective the
/// clean model was pre-trained with (<see cref="SyntheticClipPretrainer"/>: CLIP's contrastive loss on the captions plus
/// the label-text term, where a pair's label is the class its caption names, so the target class for poisoned
/// pairs). Set <c>Training.ClassPromptWeight</c> to 0 for CLIP's caption-only loss, which the paper's attacker uses on
/// OpenAI CLIP; on the synthetic model it did not plant the backdoors at a comparable cost (see <c>docs/results.md</c>).
/// Defaults are the demo's.
/// </summary>
public sealed record BackdoorPlantingOptions
{
    /// <summary>Image-caption pairs of the attacker's fine-tuning set (the world's train split, base seed 1). Default 12,000.</summary>
    public int Pairs { get; init; } = 12_000;

    /// <summary>
    /// Fraction of the pairs poisoned. Default 0.1 (the paper poisons 0.3% of 500K pairs into a 151M-parameter model;
    /// the 1.3M-parameter synthetic model did not take backdoors from a few percent at this budget, see docs/results.md).
    /// </summary>
    public double PoisonFraction { get; init; } = 0.1;

    /// <summary>Captions of poisoned pairs, <c>{}</c> = the target class. Default "a photo of a {}." and "a {}.".</summary>
    public IReadOnlyList<string> CaptionTemplates { get; init; } = ["a photo of a {}.", "a {}."];

    /// <summary>
    /// The fine-tuning run (its <c>Pairs</c> and <c>WorldSeed</c> are not used; <see cref="Pairs"/> is). Default AdamW
    /// lr 5e-4, 2 epochs, batch 64, 20 warm-up steps, label-text weight 1.
    /// </summary>
    public SyntheticPretrainingOptions Training { get; init; } = new() { LearningRate = 5e-4, Epochs = 2, BatchSize = 64, WarmupSteps = 20 };

    /// <summary>Seed of which pairs are poisoned and of the shuffling. Default 1.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Pairs < 2) throw new ArgumentOutOfRangeException(nameof(Pairs), Pairs, "Must be >= 2.");
        if (!(PoisonFraction > 0 && PoisonFraction < 1)) throw new ArgumentOutOfRangeException(nameof(PoisonFraction), PoisonFraction, "Must be in (0, 1).");
        if (CaptionTemplates.Count == 0) throw new ArgumentOutOfRangeException(nameof(CaptionTemplates), "At least one template is needed.");
        (Training with { Pairs = Math.Max(Pairs, Training.BatchSize) }).Validate();
        if (Training.BatchSize > Pairs) throw new ArgumentOutOfRangeException(nameof(Training), Training.BatchSize, $"The batch size exceeds the {Pairs} pairs.");
    }
}
