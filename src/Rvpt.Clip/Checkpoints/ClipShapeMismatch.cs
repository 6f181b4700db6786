namespace Rvpt.Clip;

/// <summary>A checkpoint tensor whose shape differs from the model's (see <see cref="ClipCheckpointMismatchException"/>).</summary>
/// <param name="Key">The state-dict key.</param>
/// <param name="Expected">The model's shape.</param>
/// <param name="Found">The checkpoint's shape.</param>
public sealed record ClipShapeMismatch(string Key, IReadOnlyList<long> Expected, IReadOnlyList<long> Found)
{
    /// <summary>"visual.proj expected [128, 32], found [128, 31]".</summary>
    public override string ToString() => $"{Key} expected [{string.Join(", ", Expected)}], found [{string.Join(", ", Found)}]";
}
