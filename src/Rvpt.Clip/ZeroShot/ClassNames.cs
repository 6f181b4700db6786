namespace Rvpt.Clip;

/// <summary>Reads class-name lists.</summary>
public static class ClassNames
{
    /// <summary>
    /// Reads one class name per line (UTF-8), trimming whitespace and skipping blank lines and lines starting with
    /// <c>#</c>. Underscores are kept: write the names as they should appear in prompts.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file holds no names or a name twice.</exception>
    public static IReadOnlyList<string> FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Class-names file not found: {path}", path);
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        if (names.Count == 0) throw new InvalidDataException($"{path}: no class names (expected one name per line).");
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"{path}: class name '{duplicate.Key}' appears {duplicate.Count()} times.");
        return names;
    }
}
