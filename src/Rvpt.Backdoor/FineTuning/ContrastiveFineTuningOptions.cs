namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="ContrastiveFineTuner"/>; defaults are the paper's backdoor-planting run.</summary>
public sealed record ContrastiveFineTuningOptions
{
    /// <summary>Peak AdamW learning rate. Default 1e-6 (the paper's).</summary>
    public double LearningRate { get; init; } = 1e-6;

    /// <summary>Epochs. Default 5.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Pairs per step (the contrastive negatives are the rest of the batch). Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>AdamW decoupled weight decay. Default 0.1.</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>
    /// Whether <see cref="WeightDecay"/> also applies to LayerNorm gains, biases and <c>logit_scale</c>. Default false:
    /// as CleanCLIP's and OpenCLIP's training code, which exempt every parameter whose name contains "bn", "ln",
    /// "bias" or "logit_scale".
    /// </summary>
    public bool DecayGainsAndBiases { get; init; }

    /// <summary>AdamW beta1. Default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW beta2. Default 0.98 (CLIP's).</summary>
    public double Beta2 { get; init; } = 0.98;

    /// <summary>AdamW epsilon. Default 1e-6 (CLIP's).</summary>
    public double Epsilon { get; init; } = 1e-6;

    /// <summary>Linear warm-up steps before the per-step cosine decay. Default 0.</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Which weights train. Default all.</summary>
    public ClipTowers Trainable { get; init; } = ClipTowers.All;

    /// <summary>Seed of the shuffling. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Checks the values.</summary>
    public void Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Must be > 0.");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Must be >= 1.");
        if (BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "A contrastive batch needs >= 2 pairs.");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Must be >= 0.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "Must be >= 0.");
    }
}
