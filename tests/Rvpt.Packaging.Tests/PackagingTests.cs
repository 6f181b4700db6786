using System.IO.Compression;
using System.Reflection.Metadata;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Rvpt.Build;
using Xunit;

namespace Rvpt.Packaging.Tests;

/// <summary>
/// `dotnet pack` of the three libraries, and a stranger's console app that uses them from a package feed: metadata,
/// symbols and SourceLink, the shipped native-library fix, and a tiny defence run through the public API.
/// </summary>
public sealed class PackagingTests : IClassFixture<PackagingFixture>
{
    private static readonly string[] Libraries = ["Rvpt.Clip", "Rvpt", "Rvpt.Backdoor"];

    /// <summary>The synthetic lab lives under src/ but is scaffolding for the demo and the tests: not packed.</summary>
    private const string Lab = "src/Rvpt.Backdoor.Lab/Rvpt.Backdoor.Lab.csproj";
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private readonly PackagingFixture _fixture;

    /// <summary>Uses the shared feed and app.</summary>
    public PackagingTests(PackagingFixture fixture) => _fixture = fixture;

    [SkippableFact]
    public void PackProducesTheThreeLibraryPackagesWithSymbolsAndNothingElse()
    {
        var packed = _fixture.Packed;
        var expected = Libraries.SelectMany(id => new[] { $"{id}.{packed.Version}.nupkg", $"{id}.{packed.Version}.snupkg" }).Order(StringComparer.Ordinal);
        var actual = Directory.GetFiles(packed.Feed).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
        Assert.Matches(@"^\d+\.\d+\.\d+-test\.\d{14}$", packed.Version);
        Assert.Empty(Warnings(packed.Log)); // e.g. SourceLink without a git remote
    }

    [SkippableFact]
    public async Task OnlyTheThreeLibrariesArePackableAndHavePublicApiFiles()
    {
        _fixture.RequirePacking();
        var root = _fixture.RepositoryRoot;
        var projects = Regex.Matches(File.ReadAllText(Path.Combine(root, "Rvpt.sln")), @"""([^""]+\.csproj)""")
            .Select(m => m.Groups[1].Value.Replace('\\', '/')).ToList();
        Assert.Contains("src/Rvpt.Clip/Rvpt.Clip.csproj", projects);
        var evaluations = await Task.WhenAll(projects.Select(p => Task.Run(() =>
            (Project: p, Result: DotnetCli.Run(root, TimeSpan.FromMinutes(3), null, "msbuild", Path.Combine(root, p), "-getProperty:IsPackable")))));
        // The libraries and the rvpt tool (a .NET tool package, ToolPackageTests in Rvpt.Cli.Tests) are packable; only the
        // libraries have public API files.
        const string tool = "src/Rvpt.Cli/Rvpt.Cli.csproj";
        bool IsLibrary(string project) => project.StartsWith("src/", StringComparison.Ordinal) && project != tool && project != Lab;
        foreach (var (project, result) in evaluations)
        {
            Assert.True(result.ExitCode == 0, result.Describe());
            var library = IsLibrary(project);
            Assert.True((library || project == tool) == (result.Output.Trim() == "true"), $"{project}: IsPackable is '{result.Output.Trim()}'");
            var directory = Path.GetDirectoryName(Path.Combine(root, project))!;
            Assert.True(library == File.Exists(Path.Combine(directory, "PublicAPI.Unshipped.txt")), $"{project}: PublicAPI files only for libraries");
        }
        Assert.Equal(Libraries.Length, evaluations.Count(e => IsLibrary(e.Project)));
        Assert.Contains(tool, projects);
        Assert.Contains(Lab, projects);
    }

    [SkippableTheory]
    [InlineData("Rvpt.Clip")]
    [InlineData("Rvpt")]
    [InlineData("Rvpt.Backdoor")]
    public void PackageCarriesReadmeLicenceDocsAndMetadata(string id)
    {
        using var package = _fixture.OpenPackage(id);
        var nuspec = Nuspec(package, id);
        string Field(string name) => nuspec.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        var version = _fixture.Packed.Version;

        Assert.Equal(id, Field("id"));
        Assert.Equal(version, Field("version"));
        Assert.Equal("The Rvpt contributors", Field("authors"));
        Assert.False(string.IsNullOrWhiteSpace(Field("description")));
        Assert.Contains("clip", Field("tags").Split(' '));
        Assert.Contains("Copyright", Field("copyright"), StringComparison.Ordinal);
        var license = nuspec.Elements().Single(e => e.Name.LocalName == "license");
        Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));

        Assert.Equal("README.md", Field("readme"));
        var readme = Read(package, "README.md");
        Assert.Contains("libtorch-cpu-linux-x64", readme, StringComparison.Ordinal);
        Assert.Contains("RvptSkipNativeLibraryFix", readme, StringComparison.Ordinal);

        var repository = nuspec.Elements().Single(e => e.Name.LocalName == "repository");
        Assert.Equal("git", (string?)repository.Attribute("type"));
        Assert.StartsWith("https://", (string?)repository.Attribute("url"));
        if (IsGitCheckout())
            Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");

        Assert.NotNull(package.GetEntry($"lib/net10.0/{id}.dll"));
        if (id == "Rvpt.Clip") // it embeds OpenAI CLIP's BPE vocabulary (MIT): the licence travels with it
            Assert.Contains("Copyright (c) 2021 OpenAI", Read(package, "THIRD-PARTY-NOTICES.md"), StringComparison.Ordinal);
        Assert.Contains("<member name=", Read(package, $"lib/net10.0/{id}.xml"), StringComparison.Ordinal); // XML docs

        // Dependencies: the libraries on each other at exactly this version, TorchSharp, and no build-only package
        // (SourceLink, the API analyzer) leaking to consumers.
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
        Assert.Contains("TorchSharp", dependencies.Keys);
        Assert.DoesNotContain(dependencies.Keys, d => d.StartsWith("Microsoft.SourceLink", StringComparison.Ordinal) || d.Contains("Analyzers", StringComparison.Ordinal));
        var inner = id switch { "Rvpt" => "Rvpt.Clip", "Rvpt.Backdoor" => "Rvpt", _ => null };
        if (inner is not null)
            Assert.Equal(version, dependencies[inner]);
    }

    [SkippableTheory]
    [InlineData("Rvpt.Clip")]
    [InlineData("Rvpt")]
    [InlineData("Rvpt.Backdoor")]
    public void SymbolPackageHasAPortablePdbWithSourceLink(string id)
    {
        using var symbols = _fixture.OpenPackage(id, "snupkg");
        var entry = symbols.GetEntry($"lib/net10.0/{id}.pdb");
        Assert.NotNull(entry);
        using var buffer = new MemoryStream();
        using (var s = entry!.Open()) s.CopyTo(buffer);
        buffer.Position = 0;
        using var provider = MetadataReaderProvider.FromPortablePdbStream(buffer);
        var reader = provider.GetMetadataReader();
        var sourceLink = reader.CustomDebugInformation.Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
            .Select(c => Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))
            .SingleOrDefault();
        if (!IsGitCheckout())
        {
            Skip.If(true, "the repository is not a git checkout, so there is no commit to link sources to");
        }
        Assert.NotNull(sourceLink);
        // Without a GitHub remote the placeholder RepositoryUrl of src/Directory.Build.props is used.
        Assert.Matches(@"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/\*", sourceLink);
        if (PackagingFixture.InCi) // ContinuousIntegrationBuild: deterministic, path-mapped sources
            Assert.Contains("\"/_/*\"", sourceLink, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void RvptClipShipsTheNativeLibraryFixAsBuildTransitive()
    {
        using (var clip = _fixture.OpenPackage("Rvpt.Clip"))
        {
            Assert.Equal(File.ReadAllText(Path.Combine(_fixture.RepositoryRoot, "build", "NativeLibraryFix.targets")), Read(clip, "buildTransitive/Rvpt.Clip.targets"));
            Assert.Equal(File.ReadAllText(Path.Combine(_fixture.RepositoryRoot, "build", "ElfVersionPatcher.cs")), Read(clip, "buildTransitive/ElfVersionPatcher.cs"));
        }
        foreach (var id in new[] { "Rvpt", "Rvpt.Backdoor" })
        {
            using var package = _fixture.OpenPackage(id);
            Assert.DoesNotContain(package.Entries, e => e.FullName.StartsWith("build", StringComparison.Ordinal)); // one copy of the fix
        }
    }

    [SkippableFact]
    public void AFreshAppRunsATinyDefenceFromThePackages()
    {
        var app = _fixture.App;
        Assert.Empty(Warnings(app.BuildLog)); // restore, the package's build target, compile
        Assert.True(app.Run.ExitCode == 0, app.Run.Describe());
        var line = app.Run.Output.Split('\n').SingleOrDefault(l => l.StartsWith("RVPT-FRESH-APP ", StringComparison.Ordinal));
        Assert.True(line is not null, app.Run.Describe());
        Assert.Contains(" steps=4 ", line, StringComparison.Ordinal);       // 16 images, batch 4, one epoch
        Assert.Contains(" reloaded=True ", line, StringComparison.Ordinal); // the saved prompts load back bit-identical
        Assert.Matches(@"clean-accuracy=[01]\.\d{3} attack-success-rate=[01]\.\d{3}", line);

        // The Rvpt packages came from the feed into the app's private folder, not into the user's global folder.
        foreach (var id in Libraries)
        {
            Assert.True(Directory.Exists(Path.Combine(_fixture.AppPackages, id.ToLowerInvariant(), _fixture.Packed.Version)), id);
            Assert.False(Directory.Exists(Path.Combine(_fixture.GlobalPackages, id.ToLowerInvariant(), _fixture.Packed.Version)), id);
        }
    }

    [SkippableFact]
    public void TheFreshAppsNativeLibraryIsFixedByThePackageAndOnlyThatMakesItLoad()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "the libstdc++ fix applies to Linux x64 only");
        var app = _fixture.App;
        var output = Path.Combine(app.OutputDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var shipped = Path.Combine(_fixture.GlobalPackages, "torchsharp", _fixture.CentralVersion("TorchSharp"), "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(shipped)) // TorchSharp was not in the global folder: the app restored it privately
            shipped = Path.Combine(_fixture.AppPackages, "torchsharp", _fixture.CentralVersion("TorchSharp"), "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output), $"{output} is missing");
        static bool Weak(string path) => ElfVersionPatcher.ReadRequirements(path).Single(r => r.Version == "GLIBCXX_3.4.32").Weak;
        Assert.False(Weak(shipped)); // TorchSharp's package itself is never modified

        var system = ElfVersionPatcher.FindSystemLibrary();
        Assert.NotNull(system);
        var needsFix = !ElfVersionPatcher.ReadDefinedVersions(system!).Contains("GLIBCXX_3.4.32");
        Assert.Equal(needsFix, Weak(output)); // patched exactly when this machine needs it
        Assert.True(app.Run.ExitCode == 0, app.Run.Describe()); // ... and then it loads and runs
        if (!needsFix)
        {
            Assert.Equal(File.ReadAllBytes(shipped), File.ReadAllBytes(output));
            return;
        }
        Assert.Contains("marked GLIBCXX_3.4.32 weak", app.BuildLog, StringComparison.Ordinal); // by the package's target

        // Control: the same app with TorchSharp's library as shipped does not start on this machine.
        var patched = output + ".patched";
        File.Move(output, patched);
        try
        {
            File.Copy(shipped, output);
            var run = DotnetCli.Run(app.Directory, TimeSpan.FromMinutes(2), null, app.Arguments);
            Assert.True(run.ExitCode != 0, "the app ran with the unpatched library: " + run.Describe());
            Assert.DoesNotContain("RVPT-FRESH-APP", run.Output, StringComparison.Ordinal);
            Assert.Contains("TorchSharp", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Move(patched, output, overwrite: true);
        }
    }

    /// <summary>
    /// The MSBuild warnings (<c>...: warning CODE: ...</c>) of a log, less NuGet's NU19xx (vulnerability data that
    /// cannot be fetched offline).
    /// </summary>
    private static List<string> Warnings(string log) =>
        log.Split('\n').Where(l => Regex.IsMatch(l, @":\s*warning\b", RegexOptions.IgnoreCase) && !Regex.IsMatch(l, @"warning NU19\d\d")).Distinct().ToList();

    private bool IsGitCheckout() => Path.Exists(Path.Combine(_fixture.RepositoryRoot, ".git"));

    private static XElement Nuspec(ZipArchive package, string id) =>
        XDocument.Parse(Read(package, $"{id}.nuspec")).Root!.Elements().Single(e => e.Name.LocalName == "metadata");

    private static string Read(ZipArchive package, string name)
    {
        var entry = package.GetEntry(name);
        Assert.True(entry is not null, $"{name} is not in the package");
        using var reader = new StreamReader(entry!.Open());
        return reader.ReadToEnd();
    }
}
