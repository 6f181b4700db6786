namespace Rvpt.Backdoor;

/// <summary>One attack x defence measurement with everything needed to reproduce it.</summary>
/// <param name="Attack">Attack (trigger) name.</param>
/// <param name="Defence">Defence name ("none", "VPT", "linear probe", "CleanCLIP", "RVPT").</param>
/// <param name="Metrics">CA and ASR.</param>
/// <param name="Seed">The few-shot / training seed of the cell.</param>
/// <param name="Configuration">Hyper-parameters of the cell (learning rate, epochs, D, b, alpha, ...).</param>
/// <param name="Note">Optional remark, e.g. that the backdoor did not reach the planting gate.</param>
public sealed record DefenceReportCell(string Attack, string Defence, BackdoorMetrics Metrics, long Seed,
    IReadOnlyDictionary<string, string> Configuration, string? Note = null);
