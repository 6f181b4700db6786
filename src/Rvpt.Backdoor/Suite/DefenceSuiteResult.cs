namespace Rvpt.Backdoor;

/// <summary>What <see cref="DefenceSuite.Run(DefenceSuiteRequest, IProgress{DefenceSuiteProgress}?, CancellationToken)"/> measured for one attack.</summary>
/// <param name="Runs">One entry per defence and seed, in the order run.</param>
/// <param name="ResistivityBefore">Perturbation resistivity per perturbation and block of the undefended encoder, or null when not measured.</param>
/// <param name="ResistivityAfter">The same for the RVPT-prompted encoder of the first seed, or null.</param>
public sealed record DefenceSuiteResult(IReadOnlyList<DefenceRun> Runs,
    IReadOnlyDictionary<string, double[]>? ResistivityBefore, IReadOnlyDictionary<string, double[]>? ResistivityAfter);
