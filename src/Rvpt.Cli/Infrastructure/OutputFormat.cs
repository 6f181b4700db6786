namespace Rvpt.Cli;

/// <summary>How a command prints its result on standard output.</summary>
internal enum OutputFormat
{
    /// <summary>A table for people (Markdown for reports).</summary>
    Table,

    /// <summary>Comma-separated values.</summary>
    Csv,

    /// <summary>One JSON document (the same as <c>--json</c>).</summary>
    Json,
}

internal static class OutputFormats
{
    public const string Help = "table, csv or json (--json implies json)";

    public static OutputFormat Parse(string text, bool json, string option = "--format")
    {
        if (json) return OutputFormat.Json;
        return text.Trim().ToLowerInvariant() switch
        {
            "table" or "markdown" or "md" => OutputFormat.Table,
            "csv" => OutputFormat.Csv,
            "json" => OutputFormat.Json,
            _ => throw new CliInputException($"{option} '{text}' is not a format; expected {Help}."),
        };
    }

    public static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
