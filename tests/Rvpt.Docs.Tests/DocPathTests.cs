using System.Text.RegularExpressions;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Docs.Tests;

/// <summary>
/// Every doc page names files that exist (issue 15): local Markdown links, repository paths in backticks
/// (<c>src/Rvpt…</c>, <c>tests/…</c>, <c>samples/…</c>, <c>benchmarks/…</c>, <c>docs/…</c>, <c>build/…</c>,
/// <c>.ci/…</c>) and C# file names in backticks (<c>ClipVisionTransformer.cs</c>). Paths of other projects quoted in
/// the docs (CleanCLIP's <c>src/train.py</c>) are not ours and are not checked.
/// </summary>
public sealed partial class DocPathTests
{
    [Theory]
    [MemberData(nameof(DocSnippetTests.Pages), MemberType = typeof(DocSnippetTests))]
    public void EveryFileThePageNamesExists(string page)
    {
        var root = Fixtures.RepositoryRoot;
        var missing = Missing(root, page, File.ReadAllText(Path.Combine(root, page)));
        Assert.True(missing.Count == 0, $"{page} names files that do not exist: {string.Join(", ", missing)}");
    }

    [Fact]
    public void AMissingFileIsFound()
    {
        var root = Fixtures.RepositoryRoot;
        var missing = Missing(root, "docs/x.md", "See [a](nothing-here.md), `src/Rvpt/NoSuchFile.cs`, `NoSuchType.cs` and `src/Rvpt/Rvpt.csproj`.");
        Assert.Equal(["nothing-here.md", "src/Rvpt/NoSuchFile.cs", "NoSuchType.cs"], missing);
    }

    private static List<string> Missing(string root, string page, string text)
    {
        var pageDirectory = Path.GetDirectoryName(Path.Combine(root, page))!;
        var missing = new List<string>();
        foreach (Match m in Link().Matches(text))
        {
            var target = m.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
            if (!Exists(Path.Combine(pageDirectory, target))) missing.Add(target);
        }
        foreach (Match m in Code().Matches(text))
        {
            var value = m.Groups["code"].Value.TrimEnd('/');
            if (RepositoryPath().IsMatch(value))
            {
                var path = value.Split(':')[0]; // "file.cs:12"
                if (!Exists(Path.Combine(root, path))) missing.Add(value);
            }
            else if (CSharpFileName().IsMatch(value) && !Directory.EnumerateFiles(root, value, SearchOption.AllDirectories).Any())
                missing.Add(value);
        }
        return missing;
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    [GeneratedRegex(@"\]\((?<target>[^)#\s]+)(#[^)]*)?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"`(?<code>[^`\s]+)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"^(src/Rvpt|tests/|samples/|benchmarks/|docs/|build/|\.ci/)")]
    private static partial Regex RepositoryPath();

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9.]*\.cs$")]
    private static partial Regex CSharpFileName();
}
