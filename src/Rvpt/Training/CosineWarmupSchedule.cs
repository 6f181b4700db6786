namespace Rvpt;

/// <summary>
/// CoOp's per-epoch schedule: a constant warm-up rate for the first epochs, then cosine annealing from the peak rate
/// over <c>Epochs</c> (Dassl's <c>ConstantWarmupScheduler</c> wrapping <c>CosineAnnealingLR(max_epoch)</c>).
/// </summary>
internal sealed class CosineWarmupSchedule
{
    private readonly TrainingOptions _options;

    /// <summary>Creates the schedule for <paramref name="options"/>.</summary>
    public CosineWarmupSchedule(TrainingOptions options)
    {
        options.Validate();
        _options = options;
    }

    /// <summary>The learning rate used throughout (0-based) <paramref name="epoch"/>.</summary>
    public double LearningRateAt(int epoch)
        => LearningRateSchedule.ConstantWarmupCosine(epoch, _options.WarmupEpochs, _options.WarmupLearningRate, _options.LearningRate, _options.Epochs);
}
