namespace Rvpt.Backdoor;

/// <summary>The outcome of one defence on one attack for one few-shot seed.</summary>
/// <param name="Attack">Attack name (the trigger's).</param>
/// <param name="Defence">The defence.</param>
/// <param name="Seed">Few-shot seed (which shots, prompt initialisation, shuffling).</param>
/// <param name="Metrics">CA and ASR on the test set.</param>
/// <param name="Configuration">The chosen settings (learning rate, epochs, D, b, alpha, ...).</param>
/// <param name="Selection">Every candidate tried and its validation accuracy (empty when nothing was selected).</param>
/// <param name="Elapsed">Wall time of training, selection and evaluation.</param>
public sealed record DefenceRun(string Attack, DefenceKind Defence, long Seed, BackdoorMetrics Metrics, IReadOnlyDictionary<string, string> Configuration,
    IReadOnlyList<SelectionTrial> Selection, TimeSpan Elapsed)
{
    /// <summary>
    /// For prompt tuning and fine-tuning: the repelling term (mean cosine between the defended and the original
    /// class tokens) over the last epoch of the chosen run, also for plain VPT and fine-tuning where it is not
    /// optimised; NaN for the other defences.
    /// </summary>
    public double FinalRepelling { get; init; } = double.NaN;

    /// <summary>The report cell of this run.</summary>
    /// <param name="note">Optional remark, e.g. that the backdoor did not reach the planting gate.</param>
    public DefenceReportCell ToCell(string? note = null) => new(Attack, DefenceSuite.DisplayName(Defence), Metrics, Seed, Configuration, note);
}
