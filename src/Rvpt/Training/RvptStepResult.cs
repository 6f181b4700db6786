namespace Rvpt;

/// <summary>What one <see cref="RvptStep"/> computed.</summary>
/// <param name="Loss">Total loss.</param>
/// <param name="CrossEntropy">Cross-entropy term.</param>
/// <param name="Repelling">Repelling term (before alpha).</param>
/// <param name="TrunkImages">Images run through the shared trunk (0 when all came from the cache).</param>
/// <param name="FrozenImages">Images run through the frozen branch (0 when all came from the cache).</param>
internal readonly record struct RvptStepResult(double Loss, double CrossEntropy, double Repelling, int TrunkImages, int FrozenImages);
