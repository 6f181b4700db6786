using System.Globalization;
using Rvpt.Clip;

namespace Rvpt.Cli;

/// <summary>Checks and parsers of option values; each failure is a <see cref="CliInputException"/> naming the option.</summary>
internal static class CliChecks
{
    public static void PathExists(string path, string option, string expected)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new CliInputException($"{option} '{path}' does not exist (expected {expected}).");
    }

    public static void FileExists(string path, string option, string expected)
    {
        if (!File.Exists(path))
            throw new CliInputException($"{option} '{path}' does not exist{(Directory.Exists(path) ? " as a file (it is a folder)" : "")} (expected {expected}).");
    }

    public static void DirectoryExists(string path, string option, string expected)
    {
        if (!Directory.Exists(path))
            throw new CliInputException($"{option} '{path}' is not a folder{(File.Exists(path) ? " (it is a file)" : "")} (expected {expected}).");
    }

    public static int Positive(int value, string option) =>
        value >= 1 ? value : throw new CliInputException($"{option} must be >= 1; got {value}.");

    public static int NonNegative(int value, string option) =>
        value >= 0 ? value : throw new CliInputException($"{option} must be >= 0; got {value}.");

    public static double PositiveFinite(double value, string option) =>
        value > 0 && double.IsFinite(value) ? value : throw new CliInputException($"{option} must be positive and finite; got {value.ToString(CultureInfo.InvariantCulture)}.");

    /// <summary>A comma-separated list of distinct seeds (64-bit integers), e.g. "1,2,3".</summary>
    public static IReadOnlyList<long> SeedList(string text, string option)
    {
        var values = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            values.Add(long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v : throw new CliInputException($"{option}: '{part}' is not an integer (expected a comma-separated list such as 1,2,3)."));
        if (values.Count == 0) throw new CliInputException($"{option} needs at least one integer.");
        if (values.Distinct().Count() != values.Count) throw new CliInputException($"{option} '{text}' names a value twice.");
        return values;
    }

    /// <summary>A comma-separated list of positive numbers, e.g. "0.002,0.02".</summary>
    public static IReadOnlyList<double> RateList(string text, string option)
    {
        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            values.Add(double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
                ? v : throw new CliInputException($"{option}: '{part}' is not a positive number."));
        return values.Count > 0 ? values : throw new CliInputException($"{option} needs at least one number.");
    }

    /// <summary>Prompt templates: "photo" (a photo of a {}.), "imagenet" (CLIP's 80) or a file with one template per line.</summary>
    public static IReadOnlyList<string> Templates(string text, string option = "--templates")
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "photo": return PromptTemplates.APhotoOfA;
            case "imagenet": return PromptTemplates.ImageNet;
        }
        FileExists(text, option, "photo, imagenet or a file with one template per line, each containing {}");
        var lines = File.ReadAllLines(text).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        if (lines.Length == 0) throw new CliInputException($"{option} '{text}' holds no templates (expected one per line, each containing {{}}).");
        var bad = lines.FirstOrDefault(l => !l.Contains("{}", StringComparison.Ordinal));
        if (bad is not null) throw new CliInputException($"{option} '{text}': the template '{bad}' has no {{}} where the class name goes.");
        return lines;
    }

    /// <summary>Reads a class-names file.</summary>
    public static IReadOnlyList<string> ClassNamesFile(string path, string option = "--classes")
    {
        FileExists(path, option, "a file with one class name per line");
        try
        {
            return ClassNames.FromFile(path);
        }
        catch (InvalidDataException e)
        {
            throw new CliInputException($"{option}: {e.Message}", e);
        }
    }

    /// <summary>The index of a class by name (exact, then case-insensitive).</summary>
    public static int ClassIndex(IReadOnlyList<string> classes, string name, string option, string where)
    {
        for (int i = 0; i < classes.Count; i++) if (classes[i] == name) return i;
        var folded = classes.Select((c, i) => (c, i)).Where(p => string.Equals(p.c, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (folded.Count == 1) return folded[0].i;
        throw new CliInputException($"{option} '{name}' is not a class of {where} (classes: {Preview(classes)}).");
    }

    public static string Preview(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list.Take(8)) + (list.Count > 8 ? $", ... ({list.Count} in all)" : "");
    }
}
