namespace Rvpt.Backdoor.Lab;

/// <summary>What <see cref="PremiseCheck.Run"/> measured on a clean model (clean accuracies are fractions in [0, 1]).</summary>
/// <param name="CleanAccuracy">The clean model's zero-shot accuracy on the test set.</param>
/// <param name="UntrainedPromptAccuracy">Test accuracy with RVPT's prompts inserted at initialisation (mean over the seeds).</param>
/// <param name="RvptAccuracy">Test accuracy with RVPT's trained prompts, learning rate chosen on clean validation (mean over the seeds).</param>
/// <param name="MeanRepelling">RVPT's repelling term (mean cosine to the original class tokens) in the last epoch of the chosen runs, averaged over the seeds: how far the prompts actually moved the features.</param>
/// <param name="Runs">The RVPT runs, one per seed, with their selection trials.</param>
public sealed record PremiseCheckResult(double CleanAccuracy, double UntrainedPromptAccuracy, double RvptAccuracy, double MeanRepelling,
    IReadOnlyList<DefenceRun> Runs)
{
    /// <summary>Gate C (<see cref="LabGates.Premise"/>) on these measurements.</summary>
    public IReadOnlyList<GateResult> Gates => LabGates.Premise(CleanAccuracy, UntrainedPromptAccuracy, RvptAccuracy);

    /// <summary>Whether both parts of gate C pass.</summary>
    public bool Passed => Gates.All(g => g.Passed);
}
