using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Docs.Tests;

/// <summary>
/// The code in the docs compiles (issue 15): every <c>```csharp</c> block of README.md and docs/*.md is compiled with
/// Roslyn against the libraries (Rvpt.Clip, Rvpt, Rvpt.Backdoor), TorchSharp and the framework. Nothing is run.
/// </summary>
public sealed class DocSnippetTests
{
    private static readonly string[] DefaultUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Threading", "System.Threading.Tasks",
    ];

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList());

    /// <summary>The pages whose C# blocks are compiled, relative to the repository root.</summary>
    public static IEnumerable<object[]> Pages() =>
        new[] { "README.md" }.Concat(Directory.GetFiles(Path.Combine(Fixtures.RepositoryRoot, "docs"), "*.md")
            .Select(p => Path.GetRelativePath(Fixtures.RepositoryRoot, p).Replace('\\', '/')))
            .Order(StringComparer.Ordinal)
            .Select(p => new object[] { p });

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryCSharpBlockCompiles(string page)
    {
        var snippets = DocSnippet.Parse(page, File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, page)));
        var failures = new List<string>();
        foreach (var snippet in snippets.Where(s => !s.Skip))
        {
            var errors = Compile(snippet);
            if (errors.Count > 0)
                failures.Add($"{snippet}:\n  " + string.Join("\n  ", errors));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TheDocsHaveCodeToCheck()
    {
        var count = Pages().Sum(p => DocSnippet.Parse((string)p[0], File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, (string)p[0]))).Count);
        Assert.True(count >= 5, $"Only {count} C# blocks found in README.md and docs/*.md: is the parser broken?");
    }

    [Fact]
    public void ABrokenBlockFails()
    {
        var broken = DocSnippet.Parse("test.md", "text\n```csharp\nusing Rvpt;\nvar x = new NoSuchType();\n```\n").Single();
        var errors = Compile(broken);
        Assert.Contains(errors, e => e.Contains("test.md(4", StringComparison.Ordinal) && e.Contains("NoSuchType", StringComparison.Ordinal));
    }

    [Fact]
    public void AFragmentGetsItsParameters()
    {
        const string page = "<!-- snippet: fragment(Microsoft.Extensions.Logging.ILogger logger) -->\n```csharp\nlogger.ToString();\n```\n";
        var snippet = DocSnippet.Parse("test.md", page).Single();
        Assert.Empty(Compile(snippet));
        Assert.NotEmpty(Compile(snippet with { Parameters = "" }));
    }

    private static List<string> Compile(DocSnippet snippet)
    {
        var tree = CSharpSyntaxTree.ParseText(snippet.ToSource(DefaultUsings), new CSharpParseOptions(LanguageVersion.Preview));
        var compilation = CSharpCompilation.Create("Snippet", [tree], References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d => d.ToString())
            .ToList();
    }
}
