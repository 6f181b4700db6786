namespace Rvpt;

/// <summary>What a <see cref="FewShotTrainer.Fit"/> run did.</summary>
/// <param name="EpochsCompleted">Epochs completed in total (including those before a resume).</param>
/// <param name="ResumedFromEpoch">The epoch count found in the checkpoint the run resumed from, or 0.</param>
/// <param name="Steps">Steps run by this call.</param>
/// <param name="FinalLoss">Mean total loss of the last epoch (of its steps run by this call, after a mid-epoch resume).</param>
/// <param name="FinalCrossEntropy">Mean cross-entropy of the last epoch.</param>
/// <param name="FinalRepelling">Mean repelling term of the last epoch.</param>
/// <param name="Elapsed">Wall time of this call.</param>
public sealed record TrainingSummary(int EpochsCompleted, int ResumedFromEpoch, int Steps, double FinalLoss, double FinalCrossEntropy,
    double FinalRepelling, TimeSpan Elapsed)
{
    /// <summary>The steps of epoch <see cref="ResumedFromEpoch"/> + 1 already done in the checkpoint the run resumed from, or 0.</summary>
    public int ResumedFromStep { get; init; }

    /// <summary>
    /// Images this call ran through the shared trunk. Without <see cref="TrainingOptions.CacheSharedTrunk"/> every image
    /// of every step; with it (and augmentation off) each sample once.
    /// </summary>
    public long SharedTrunkImagesEncoded { get; init; }

    /// <summary>
    /// Images this call ran through the frozen branch. Without <see cref="TrainingOptions.CacheFrozenClassTokens"/>
    /// every image of every step; with it (and augmentation off) each sample once.
    /// </summary>
    public long FrozenImagesEncoded { get; init; }

    /// <summary>Validation accuracy after each epoch this call ran (empty without a validation set).</summary>
    public IReadOnlyList<double> ValidationAccuracies { get; init; } = [];

    /// <summary>The 1-based epoch with the highest validation accuracy this call saw (the first on ties), or null without a validation set.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>Whether early stopping (<see cref="TrainingOptions.EarlyStoppingPatience"/>) ended the run before its last epoch; the prompts are then the best epoch's.</summary>
    public bool StoppedEarly { get; init; }
}
