using System.Text.RegularExpressions;

namespace Rvpt.Docs.Tests;

/// <summary>
/// One <c>```csharp</c> block of a Markdown page. Leading <c>using</c> directives are hoisted to the top of the file;
/// the rest is compiled as the body of a method. A block may be preceded (on the line before its fence) by
/// <c>&lt;!-- snippet: fragment(TYPE name, ...) --&gt;</c>, which declares the variables the block uses but does not
/// define (a logger, a progress sink, batches from elsewhere) as the method's parameters, or by
/// <c>&lt;!-- snippet: skip --&gt;</c> for a block that is not C# to compile (none so far).
/// </summary>
/// <param name="File">The page, relative to the repository root.</param>
/// <param name="Line">The 1-based line of the block's first code line.</param>
/// <param name="Code">The block's text.</param>
/// <param name="Parameters">The fragment's parameter list ("" for a whole program).</param>
/// <param name="Skip">Whether the block is marked not to compile.</param>
public sealed partial record DocSnippet(string File, int Line, string Code, string Parameters, bool Skip)
{
    /// <summary>"docs/rvpt.md:52".</summary>
    public override string ToString() => $"{File}:{Line}";

    /// <summary>Every C# block of <paramref name="markdown"/> (the text of <paramref name="file"/>).</summary>
    public static IReadOnlyList<DocSnippet> Parse(string file, string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var result = new List<DocSnippet>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp") continue;
            var marker = i > 0 ? Marker().Match(lines[i - 1]) : Match.Empty;
            int start = i + 1, end = start;
            while (end < lines.Length && lines[end].Trim() != "```") end++;
            if (end == lines.Length) throw new InvalidDataException($"{file}:{i + 1}: the ```csharp block is never closed.");
            result.Add(new DocSnippet(file, start + 1, string.Join('\n', lines[start..end]),
                marker.Success ? marker.Groups["params"].Value : "", marker.Success && marker.Groups["kind"].Value == "skip"));
            i = end;
        }
        return result;
    }

    /// <summary>The compilable file: default usings, the block's usings, and its statements in a method.</summary>
    public string ToSource(IEnumerable<string> defaultUsings)
    {
        var lines = Code.Split('\n');
        int body = 0;
        while (body < lines.Length && (string.IsNullOrWhiteSpace(lines[body]) || UsingDirective().IsMatch(lines[body]))) body++;
        var usings = defaultUsings.Select(u => $"using {u};").Concat(lines[..body].Where(l => !string.IsNullOrWhiteSpace(l)));
        // #line keeps the compiler's line numbers those of the page.
        return string.Join('\n', usings.Distinct()) + "\n"
            + "internal static class Snippet\n{\n"
            + $"    internal static void Run({Parameters})\n    {{\n"
            + $"#line {Line + body} \"{File}\"\n"
            + string.Join('\n', lines[body..]) + "\n"
            + "#line default\n    }\n}\n";
    }

    [GeneratedRegex(@"^\s*using\s+(static\s+)?[A-Za-z_][\w.]*(\s*=\s*[\w.<>]+)?\s*;\s*(//.*)?$")]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"^\s*<!--\s*snippet:\s*(?<kind>fragment|skip)(\((?<params>.*)\))?\s*-->\s*$")]
    private static partial Regex Marker();
}
