namespace Rvpt.Clip;

/// <summary>
/// Builds the single exception that reports every way a checkpoint fails to fit a model. It is an
/// <see cref="InvalidDataException"/> whose message lists everything, with the lists also in
/// <see cref="Exception.Data"/> under <see cref="MissingKeysKey"/>, <see cref="UnexpectedKeysKey"/> and
/// <see cref="ShapeMismatchesKey"/> (string arrays) for programs.
/// </summary>
public static class ClipCheckpointMismatch
{
    /// <summary><see cref="Exception.Data"/> key of the missing keys (<c>string[]</c>).</summary>
    public const string MissingKeysKey = "MissingKeys";

    /// <summary><see cref="Exception.Data"/> key of the unexpected keys (<c>string[]</c>).</summary>
    public const string UnexpectedKeysKey = "UnexpectedKeys";

    /// <summary><see cref="Exception.Data"/> key of the shape mismatches (<c>string[]</c>, "key expected [..], found [..]").</summary>
    public const string ShapeMismatchesKey = "ShapeMismatches";

    /// <summary>Creates the exception.</summary>
    /// <param name="source">The checkpoint, for the message.</param>
    /// <param name="missing">Keys the model has and the checkpoint lacks.</param>
    /// <param name="unexpected">Keys the checkpoint has and the model lacks.</param>
    /// <param name="shapes">Keys whose shapes differ.</param>
    /// <param name="summary">First line of the message; null for "checkpoint does not match the CLIP model; nothing was loaded."</param>
    public static InvalidDataException Create(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<(string Key, long[] Expected, long[] Found)> shapes, string? summary = null)
    {
        static string S(long[] s) => "[" + string.Join(", ", s) + "]";
        var shapeLines = shapes.Select(x => $"{x.Key} expected {S(x.Expected)}, found {S(x.Found)}").ToArray();
        var lines = new List<string> { summary ?? $"{source}: checkpoint does not match the CLIP model; nothing was loaded." };
        if (missing.Count > 0) lines.Add($"  missing keys ({missing.Count}): {string.Join(", ", missing)}");
        if (unexpected.Count > 0) lines.Add($"  unexpected keys ({unexpected.Count}): {string.Join(", ", unexpected)}");
        lines.AddRange(shapeLines.Select(l => "  shape mismatch: " + l));
        var e = new InvalidDataException(string.Join(Environment.NewLine, lines));
        e.Data[MissingKeysKey] = missing.ToArray();
        e.Data[UnexpectedKeysKey] = unexpected.ToArray();
        e.Data[ShapeMismatchesKey] = shapeLines;
        return e;
    }
}
