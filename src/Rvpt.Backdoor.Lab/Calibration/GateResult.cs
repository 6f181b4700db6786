namespace Rvpt.Backdoor.Lab;

/// <summary>The outcome of one calibration gate (see <see cref="LabGates"/>).</summary>
/// <param name="Gate">The gate's letter: "A" (the backdoor exists), "B" (a baseline behaves as in the paper) or "C" (the premise).</param>
/// <param name="Subject">What was checked, e.g. "BadNets: CleanCLIP halves the ASR".</param>
/// <param name="Passed">Whether the measurement meets the gate.</param>
/// <param name="Detail">The measured values against the thresholds, in words.</param>
public sealed record GateResult(string Gate, string Subject, bool Passed, string Detail)
{
    /// <summary>"A: BadNets planted: passed (ASR 93.2% >= 80%, ...)".</summary>
    public override string ToString() => $"{Gate}: {Subject}: {(Passed ? "passed" : "FAILED")} ({Detail})";
}
