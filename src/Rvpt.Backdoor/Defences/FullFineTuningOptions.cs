namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="FullFineTuning"/>, the paper's Table 8 baseline: the whole image encoder fine-tuned on the
/// few shots with cross-entropy on CLIP's zero-shot logits (text tower and <c>logit_scale</c> frozen), optionally with
/// RVPT's repelling term against the original encoder. The schedule is the prompt trainer's (CoOp's SGD recipe) so the
/// two baselines get the same epochs budget; the paper does not state its fine-tuning optimiser, so the learning rate is
/// chosen on clean validation data (<see cref="DefenceSuiteOptions.FineTuningLearningRates"/>).
/// </summary>
public sealed record FullFineTuningOptions
{
    /// <summary>
    /// Epochs, batch, learning rate, optimiser (SGD with momentum, or AdamW with its betas and epsilon, as for prompt
    /// training), weight decay, warm-up, augmentation and seed; <c>CheckpointDirectory</c>, <c>ComputeDType</c> and
    /// the caches are not used. Default: <see cref="TrainingOptions"/>' defaults (SGD) with learning rate 1e-3.
    /// </summary>
    public TrainingOptions Training { get; init; } = new() { LearningRate = 1e-3 };

    /// <summary>Weight of the repelling term (RVPT's alpha); 0 gives plain cross-entropy fine-tuning. Default 0.</summary>
    public double Alpha { get; init; }

    /// <summary>
    /// D: the repelling term compares the class tokens after blocks D+1..L, as RVPT's does for its prompted blocks.
    /// Default 3 (the paper's).
    /// </summary>
    public int UnrepelledDepth { get; init; } = 3;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
        if (!(Alpha >= 0) || double.IsInfinity(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Must be finite and >= 0.");
        if (UnrepelledDepth < 0) throw new ArgumentOutOfRangeException(nameof(UnrepelledDepth), UnrepelledDepth, "Must be >= 0.");
    }
}
