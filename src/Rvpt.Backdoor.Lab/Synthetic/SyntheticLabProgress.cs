namespace Rvpt.Backdoor.Lab;

/// <summary>One progress report of <see cref="SyntheticBackdoorLab"/>.</summary>
/// <param name="Phase">What runs, e.g. "pre-training clean CLIP" or "planting BadNets".</param>
/// <param name="Step">Steps done in the phase.</param>
/// <param name="TotalSteps">Steps in the phase.</param>
/// <param name="Loss">Loss of the last step, NaN when the phase has none.</param>
public sealed record SyntheticLabProgress(string Phase, int Step, int TotalSteps, double Loss);
