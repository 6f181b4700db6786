using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rvpt.Cli;

/// <summary>JSON settings of the tool's machine output.</summary>
internal static class JsonOutput
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A finite number, or null (JSON has no NaN).</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
