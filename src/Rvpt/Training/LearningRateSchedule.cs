namespace Rvpt;

/// <summary>
/// The one home of the learning-rate schedules (issue 15): CoOp's per-epoch schedule for prompt tuning and CLIP's
/// per-step schedule for contrastive fine-tuning and pre-training. Both end in the same half-cosine; each keeps its
/// arithmetic exactly as first written, so runs reproduce bit for bit.
/// </summary>
internal static class LearningRateSchedule
{
    /// <summary>
    /// CoOp's schedule at (0-based) <paramref name="epoch"/>: <paramref name="warmupRate"/> for the first
    /// <paramref name="warmupEpochs"/> epochs, then cosine annealing from <paramref name="peak"/> over
    /// <paramref name="epochs"/> (Dassl's <c>ConstantWarmupScheduler</c> wrapping <c>CosineAnnealingLR(max_epoch)</c>).
    /// </summary>
    public static double ConstantWarmupCosine(int epoch, int warmupEpochs, double warmupRate, double peak, int epochs)
    {
        if (epoch < warmupEpochs) return warmupRate;
        double t = epoch - warmupEpochs;
        return HalfCosine(peak, Math.PI * t / epochs);
    }

    /// <summary>
    /// CLIP's schedule at (0-based) global <paramref name="step"/> of <paramref name="totalSteps"/>: linear warm-up to
    /// <paramref name="peak"/> over <paramref name="warmupSteps"/> steps, then cosine to 0 over the remaining steps.
    /// </summary>
    public static double LinearWarmupCosine(int step, int warmupSteps, double peak, int totalSteps)
    {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double t = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return HalfCosine(peak, Math.PI * t);
    }

    private static double HalfCosine(double peak, double angle) => 0.5 * peak * (1 + Math.Cos(angle));
}
