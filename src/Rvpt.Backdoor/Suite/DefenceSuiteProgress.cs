namespace Rvpt.Backdoor;

/// <summary>One progress report of <see cref="DefenceSuite.Run(DefenceSuiteRequest, IProgress{DefenceSuiteProgress}?, CancellationToken)"/>.</summary>
/// <param name="Phase">What runs, e.g. "RVPT seed 1, lr=0.02".</param>
/// <param name="Fraction">Overall fraction of the suite's work done, in [0, 1].</param>
public sealed record DefenceSuiteProgress(string Phase, double Fraction);
