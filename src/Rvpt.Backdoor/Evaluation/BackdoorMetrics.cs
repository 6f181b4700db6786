namespace Rvpt.Backdoor;

/// <summary>
/// Clean accuracy and attack success rate, overall and per class. ASR counts only test images whose true class is
/// not the target: the fraction of them classified as the target once the trigger is applied.
/// </summary>
public sealed record BackdoorMetrics
{
    /// <summary>Top-1 accuracy on clean images, in [0, 1].</summary>
    public required double CleanAccuracy { get; init; }

    /// <summary>Attack success rate in [0, 1], or NaN when no trigger was evaluated.</summary>
    public required double AttackSuccessRate { get; init; }

    /// <summary>The target class index.</summary>
    public required int TargetClass { get; init; }

    /// <summary>Clean images evaluated.</summary>
    public required int CleanCount { get; init; }

    /// <summary>Non-target images evaluated with the trigger (the ASR denominator).</summary>
    public required int AttackedCount { get; init; }

    /// <summary>Clean accuracy of each true class (NaN for a class with no images).</summary>
    public required IReadOnlyList<double> CleanAccuracyPerClass { get; init; }

    /// <summary>ASR by true class (NaN for the target class and for classes with no images).</summary>
    public required IReadOnlyList<double> AttackSuccessRatePerClass { get; init; }

    /// <summary>
    /// Computes the metrics from predictions. <paramref name="triggeredPredictions"/> may be null (CA only).
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, or a label or prediction is outside the classes.</exception>
    public static BackdoorMetrics Compute(IReadOnlyList<long> labels, IReadOnlyList<long> cleanPredictions,
        IReadOnlyList<long>? triggeredPredictions, int targetClass, int classCount)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(cleanPredictions);
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "At least one class is required.");
        if (targetClass < 0 || targetClass >= classCount)
            throw new ArgumentOutOfRangeException(nameof(targetClass), targetClass, $"The target class must be in [0, {classCount}).");
        if (cleanPredictions.Count != labels.Count || (triggeredPredictions is not null && triggeredPredictions.Count != labels.Count))
            throw new ArgumentException($"Got {labels.Count} labels, {cleanPredictions.Count} clean and {triggeredPredictions?.Count} triggered predictions.");
        void Check(IReadOnlyList<long> values, string what)
        {
            for (int i = 0; i < values.Count; i++)
                if (values[i] < 0 || values[i] >= classCount)
                    throw new ArgumentException($"{what}[{i}] = {values[i]} is outside [0, {classCount}).");
        }
        Check(labels, "labels");
        Check(cleanPredictions, "cleanPredictions");
        if (triggeredPredictions is not null) Check(triggeredPredictions, "triggeredPredictions");

        var total = new int[classCount];
        var correct = new int[classCount];
        var hits = new int[classCount];
        for (int i = 0; i < labels.Count; i++)
        {
            int y = (int)labels[i];
            total[y]++;
            if (cleanPredictions[i] == y) correct[y]++;
            if (triggeredPredictions is not null && y != targetClass && triggeredPredictions[i] == targetClass) hits[y]++;
        }
        int attacked = triggeredPredictions is null ? 0 : labels.Count - total[targetClass];
        return new BackdoorMetrics
        {
            CleanAccuracy = labels.Count == 0 ? double.NaN : (double)correct.Sum() / labels.Count,
            AttackSuccessRate = triggeredPredictions is null || attacked == 0 ? double.NaN : (double)hits.Sum() / attacked,
            TargetClass = targetClass,
            CleanCount = labels.Count,
            AttackedCount = attacked,
            CleanAccuracyPerClass = Enumerable.Range(0, classCount).Select(c => total[c] == 0 ? double.NaN : (double)correct[c] / total[c]).ToArray(),
            AttackSuccessRatePerClass = Enumerable.Range(0, classCount)
                .Select(c => triggeredPredictions is null || c == targetClass || total[c] == 0 ? double.NaN : (double)hits[c] / total[c]).ToArray(),
        };
    }

    /// <summary>"ASR% (CA%)", the paper's table cell format, e.g. "82.69 (63.04)".</summary>
    public string ToCell() => FormattableString.Invariant($"{100 * AttackSuccessRate:F2} ({100 * CleanAccuracy:F2})");
}
