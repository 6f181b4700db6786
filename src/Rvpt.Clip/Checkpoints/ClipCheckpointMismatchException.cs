namespace Rvpt.Clip;

/// <summary>
/// A checkpoint does not fit the model: the single exception that reports every way it fails, so one run names all
/// the missing keys, unexpected keys and shape mismatches. The message lists everything; the lists are also here for
/// programs. Nothing was loaded when it is thrown. (Other bad files are <see cref="InvalidDataException"/>s, which is
/// sealed, so this type derives from <see cref="Exception"/>.)
/// </summary>
public sealed class ClipCheckpointMismatchException : Exception
{
    /// <summary>Creates the exception; its message lists every problem.</summary>
    /// <param name="checkpoint">The checkpoint (a path or a description), for the message.</param>
    /// <param name="missingKeys">Keys the model has and the checkpoint lacks.</param>
    /// <param name="unexpectedKeys">Keys the checkpoint has and the model lacks.</param>
    /// <param name="shapeMismatches">Keys whose shapes differ.</param>
    /// <param name="summary">First line of the message; null for "checkpoint does not match the CLIP model; nothing was loaded."</param>
    public ClipCheckpointMismatchException(string checkpoint, IReadOnlyList<string> missingKeys, IReadOnlyList<string> unexpectedKeys,
        IReadOnlyList<ClipShapeMismatch> shapeMismatches, string? summary = null)
        : base(Describe(checkpoint, missingKeys, unexpectedKeys, shapeMismatches, summary))
    {
        Checkpoint = checkpoint;
        MissingKeys = missingKeys.ToArray();
        UnexpectedKeys = unexpectedKeys.ToArray();
        ShapeMismatches = shapeMismatches.ToArray();
    }

    /// <summary>The checkpoint (a path or a description).</summary>
    public string Checkpoint { get; }

    /// <summary>Keys the model has and the checkpoint lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>Keys the checkpoint has and the model lacks.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Keys whose shapes differ, with the expected and the found shape.</summary>
    public IReadOnlyList<ClipShapeMismatch> ShapeMismatches { get; }

    private static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<ClipShapeMismatch> shapes, string? summary)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(missing);
        ArgumentNullException.ThrowIfNull(unexpected);
        ArgumentNullException.ThrowIfNull(shapes);
        var lines = new List<string> { summary ?? $"{source}: checkpoint does not match the CLIP model; nothing was loaded." };
        if (missing.Count > 0) lines.Add($"  missing keys ({missing.Count}): {string.Join(", ", missing)}");
        if (unexpected.Count > 0) lines.Add($"  unexpected keys ({unexpected.Count}): {string.Join(", ", unexpected)}");
        lines.AddRange(shapes.Select(s => "  shape mismatch: " + s));
        return string.Join(Environment.NewLine, lines);
    }
}
