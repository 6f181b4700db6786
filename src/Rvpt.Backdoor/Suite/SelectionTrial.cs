namespace Rvpt.Backdoor;

/// <summary>One candidate of a defence's hyper-parameter selection, scored on the clean validation set only.</summary>
/// <param name="Candidate">The candidate's settings, e.g. "lr=0.002".</param>
/// <param name="ValidationAccuracy">Clean top-1 accuracy on the validation set, in [0, 1].</param>
/// <param name="Chosen">Whether this candidate was selected (highest validation accuracy; ties go to the earlier candidate).</param>
public sealed record SelectionTrial(string Candidate, double ValidationAccuracy, bool Chosen);
