namespace Rvpt.Backdoor.Lab;

/// <summary>
/// Settings of <see cref="SyntheticClipPretrainer"/>. The defaults are the recipe of the demo's clean model (measured in
/// <c>docs/results.md</c>): 24,000 training pairs of the world, 5 epochs of AdamW at batch 64, CLIP's contrastive loss
/// on the captions plus a label-text term (UniCL-style, weight 1) on the class prompts.
/// </summary>
public sealed record SyntheticPretrainingOptions
{
    /// <summary>Training pairs drawn from the world's train split (rendered once, kept in memory). Default 24,000.</summary>
    public int Pairs { get; init; } = 24_000;

    /// <summary>Epochs over the pairs. Default 5.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Pairs per step. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak AdamW learning rate. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW decoupled weight decay. Default 0.1.</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>
    /// Whether <see cref="WeightDecay"/> also applies to LayerNorm gains, biases and <c>logit_scale</c>. Default false:
    /// as CleanCLIP's and OpenCLIP's training code (see <see cref="ContrastiveFineTuningOptions.DecayGainsAndBiases"/>).
    /// Before this option existed the lab decayed every parameter (<c>true</c> reproduces those models).
    /// </summary>
    public bool DecayGainsAndBiases { get; init; }

    /// <summary>Linear warm-up steps before the cosine decay. Default 200.</summary>
    public int WarmupSteps { get; init; } = 200;

    /// <summary>
    /// Weight of the label-text term: cross-entropy of each image against the embeddings of all class prompts
    /// (<see cref="ClassPromptTemplate"/>), which shares the text tower with the caption term. 0 gives plain CLIP
    /// training, which learns the world's shapes far more slowly (see <c>docs/results.md</c>). Default 1.
    /// </summary>
    public double ClassPromptWeight { get; init; } = 1.0;

    /// <summary>Template of the class prompts, with <c>{}</c> for the class name. Default <c>"a photo of a {}."</c>.</summary>
    public string ClassPromptTemplate { get; init; } = "a photo of a {}.";

    /// <summary>Upper clamp of <c>logit_scale</c> after every step (CLIP's ln 100). Default 4.6052.</summary>
    public double MaxLogitScale { get; init; } = 4.6052;

    /// <summary>Seed of the model initialisation and the shuffling. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Base seed of the world's splits (<see cref="SyntheticWorld.SplitSeed"/>). Default 0.</summary>
    public long WorldSeed { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Pairs < 2) throw new ArgumentOutOfRangeException(nameof(Pairs), Pairs, "Must be >= 2.");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Must be >= 1.");
        if (BatchSize < 2 || BatchSize > Pairs) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"Must be between 2 and Pairs ({Pairs}).");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Must be > 0.");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Must be >= 0.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "Must be >= 0.");
        if (!(ClassPromptWeight >= 0)) throw new ArgumentOutOfRangeException(nameof(ClassPromptWeight), ClassPromptWeight, "Must be >= 0.");
        if (!ClassPromptTemplate.Contains("{}", StringComparison.Ordinal))
            throw new ArgumentOutOfRangeException(nameof(ClassPromptTemplate), ClassPromptTemplate, "Must contain {} for the class name.");
    }
}
