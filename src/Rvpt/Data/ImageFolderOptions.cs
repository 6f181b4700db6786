namespace Rvpt;

/// <summary>Settings of <see cref="ImageFolderDataset.Open"/>.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>The file extensions read by default (compared case-insensitively): the formats ImageSharp decodes.</summary>
    public static IReadOnlyList<string> DefaultExtensions { get; } =
        Array.AsReadOnly([".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"]);

    /// <summary>
    /// Optional class-names file (one name per line, read with <see cref="Rvpt.Clip.ClassNames.FromFile"/>) that
    /// supplies the class names instead of the folder names. Rule: if any line equals a (mapped) folder name, the
    /// file is matched BY NAME: every folder must appear in it and every line must name a folder, and label i is line
    /// i (so the file fixes the class order). Otherwise it is matched BY POSITION: line i names the i-th class folder
    /// in ordinal order (e.g. WordNet-id folders with readable names), and the counts must be equal. Any mismatch is
    /// an <see cref="InvalidDataException"/> listing both sides. Default <see langword="null"/>: folder names.
    /// </summary>
    public string? ClassNamesFile { get; init; }

    /// <summary>
    /// Optional map from a folder name to its class name, e.g. <c>n =&gt; n.Replace('_', ' ')</c>. Applied before
    /// <see cref="ClassNamesFile"/> matching. Must give distinct, non-blank names. Default <see langword="null"/>: the
    /// folder name as is.
    /// </summary>
    public Func<string, string>? FolderToClassName { get; init; }

    /// <summary>
    /// Whether a class folder without images is kept as a class with no images (so labels stay aligned with a
    /// class list) instead of failing. Default <see langword="false"/>: an empty class folder is an
    /// <see cref="InvalidDataException"/>.
    /// </summary>
    public bool AllowEmptyClasses { get; init; }

    /// <summary>File extensions (with the dot) that count as images, compared case-insensitively. Default <see cref="DefaultExtensions"/>.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = DefaultExtensions;
}
