using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Packaging.Tests;

/// <summary>The packages, packed once into a temporary folder feed.</summary>
/// <param name="Feed">The folder feed.</param>
/// <param name="Version">The version every package got (the repository's VersionPrefix + a unique test suffix).</param>
/// <param name="Log">The pack command's output.</param>
public sealed record PackedLibraries(string Feed, string Version, string Log);

/// <summary>The fresh app, built against the packages and run once.</summary>
/// <param name="Directory">The app's project folder (outside the repository).</param>
/// <param name="OutputDirectory">Its build output.</param>
/// <param name="BuildLog">The build's output.</param>
/// <param name="Run">The run.</param>
/// <param name="Arguments">The arguments the run used (to run it again).</param>
public sealed record FreshApp(string Directory, string OutputDirectory, string BuildLog, ProcessResult Run, string[] Arguments);

/// <summary>
/// Packs Rvpt.Clip, Rvpt and Rvpt.Backdoor (Release, isolated bin/obj, unique prerelease version) into a feed in a
/// temporary folder, then creates a console app in another temporary folder, outside the solution, with its own
/// nuget.config (the feed + the repository's package sources), builds it and runs it. Done once for all tests of
/// <see cref="PackagingTests"/>.
/// <para>
/// The user's global NuGet folder is left unchanged: the app restores into a private packages folder that falls back
/// to the global one (so TorchSharp and libtorch, ~600 MB, are used in place rather than copied or downloaded), so
/// the test's Rvpt packages never land in the global folder.
/// </para>
/// </summary>
public sealed class PackagingFixture : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(8);
    private readonly TempDirectory _temp = new();
    private readonly Lazy<PackedLibraries> _packed;
    private readonly Lazy<FreshApp> _app;

    /// <summary>Locates the repository; packing and the app happen on first use.</summary>
    public PackagingFixture()
    {
        var metadata = typeof(PackagingFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
        RepositoryRoot = Path.GetFullPath(metadata["RepositoryRoot"] ?? "");
        GlobalPackages = Path.GetFullPath(metadata["NuGetPackageRoot"] ?? "");
        if (!File.Exists(Path.Combine(RepositoryRoot, "Rvpt.Packages.slnf")))
            SkipReason = $"the repository that built these tests ({RepositoryRoot}) is not there any more, so there is nothing to pack";
        else if (Path.GetFullPath(_temp.Path).StartsWith(RepositoryRoot, StringComparison.Ordinal))
            SkipReason = $"the temporary folder {_temp.Path} lies inside the repository; the fresh app must be built outside it";
        _packed = new Lazy<PackedLibraries>(Pack);
        _app = new Lazy<FreshApp>(BuildAndRunApp);
    }

    /// <summary>The repository that built these tests.</summary>
    public string RepositoryRoot { get; }

    /// <summary>The user's global NuGet packages folder (read-only here).</summary>
    public string GlobalPackages { get; }

    /// <summary>Why packing is impossible here, or null.</summary>
    public string? SkipReason { get; }

    /// <summary>True under CI (<c>CI=true</c>), where the tests fail instead of skipping.</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The three library packages.</summary>
    public PackedLibraries Packed
    {
        get
        {
            RequirePacking();
            return _packed.Value;
        }
    }

    /// <summary>The fresh app, built and run once.</summary>
    public FreshApp App
    {
        get
        {
            RequirePacking();
            return _app.Value;
        }
    }

    /// <summary>The private packages folder the fresh app restores into.</summary>
    public string AppPackages => Path.Combine(_temp.Path, "packages");

    /// <summary>Skips with <see cref="SkipReason"/> when packing is impossible, except under CI, where that fails.</summary>
    public void RequirePacking()
    {
        if (SkipReason is null) return;
        Assert.False(InCi, $"Packaging tests cannot run: {SkipReason}. Under CI=true they must run.");
        Skip.If(true, $"Packaging tests skipped: {SkipReason}.");
    }

    /// <summary>A central package version from the repository's Directory.Packages.props.</summary>
    public string CentralVersion(string package)
    {
        var props = XDocument.Load(Path.Combine(RepositoryRoot, "Directory.Packages.props"));
        var version = props.Descendants("PackageVersion").FirstOrDefault(e => (string?)e.Attribute("Include") == package)?.Attribute("Version")?.Value;
        Assert.False(version is null, $"{package} has no PackageVersion in Directory.Packages.props");
        return version!.Trim('[', ']');
    }

    /// <summary>The CPU backend package an app on this OS references (as build/TorchBackend.targets picks it).</summary>
    public static string CpuBackendPackage =>
        OperatingSystem.IsWindows() ? "libtorch-cpu-win-x64" : OperatingSystem.IsMacOS() ? "libtorch-cpu-osx-arm64" : "libtorch-cpu-linux-x64";

    /// <summary>Opens a package of the feed.</summary>
    public ZipArchive OpenPackage(string id, string extension = "nupkg") =>
        ZipFile.OpenRead(Path.Combine(Packed.Feed, $"{id}.{Packed.Version}.{extension}"));

    private PackedLibraries Pack()
    {
        var feed = Path.Combine(_temp.Path, "feed");
        var suffix = "test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        // Release, with bin/ and obj/ under the temporary folder: nothing in the repository's bin/obj changes, so
        // the other test assemblies running beside this one are undisturbed.
        var pack = DotnetCli.Run(RepositoryRoot, StepTimeout, null,
            "pack", Path.Combine(RepositoryRoot, "Rvpt.Packages.slnf"), "-c", "Release", "-o", feed,
            "--artifacts-path", Path.Combine(_temp.Path, "artifacts"), "-p:VersionSuffix=" + suffix);
        Assert.True(pack.ExitCode == 0, pack.Describe());
        var clip = Directory.GetFiles(feed, "Rvpt.Clip.*.nupkg").Single();
        var version = Path.GetFileNameWithoutExtension(clip)["Rvpt.Clip.".Length..];
        Assert.EndsWith("-" + suffix, version);
        return new PackedLibraries(feed, version, pack.Output);
    }

    private FreshApp BuildAndRunApp()
    {
        var packed = Packed;
        var app = Path.Combine(_temp.Path, "FreshApp");
        Directory.CreateDirectory(app);
        var template = Path.Combine(AppContext.BaseDirectory, "FreshApp");
        File.Copy(Path.Combine(template, "Program.cs"), Path.Combine(app, "Program.cs"));
        var backend = CpuBackendPackage;
        File.WriteAllText(Path.Combine(app, "FreshApp.csproj"), File.ReadAllText(Path.Combine(template, "FreshApp.csproj.template"))
            .Replace("@RVPT_VERSION@", packed.Version, StringComparison.Ordinal)
            .Replace("@BACKEND_PACKAGE@", backend, StringComparison.Ordinal)
            .Replace("@BACKEND_VERSION@", CentralVersion(backend), StringComparison.Ordinal));
        WriteNuGetConfig(Path.Combine(app, "nuget.config"), packed.Feed);

        // NUGET_PACKAGES would override the nuget.config's globalPackagesFolder: point it at the private folder too.
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = AppPackages };
        var build = DotnetCli.Run(app, StepTimeout, env, "build", Path.Combine(app, "FreshApp.csproj"), "-c", "Release");
        Assert.True(build.ExitCode == 0, build.Describe());
        var output = Path.Combine(app, "bin", "Release", "net10.0");
        string[] arguments = ["exec", Path.Combine(output, "FreshApp.dll"), Path.Combine(_temp.Path, "run")];
        var run = DotnetCli.Run(app, StepTimeout, env, arguments);
        return new FreshApp(app, output, build.Output, run, arguments);
    }

    /// <summary>
    /// The app's nuget.config: the local feed first, then the repository nuget.config's package sources; restore into
    /// <see cref="AppPackages"/>, falling back to the global folder for everything already there.
    /// </summary>
    private void WriteNuGetConfig(string path, string feed)
    {
        var repo = XDocument.Load(Path.Combine(RepositoryRoot, "nuget.config"));
        var sources = repo.Root!.Element("packageSources")!.Elements().Select(e => new XElement(e)).ToList();
        var local = new XElement("add", new XAttribute("key", "rvpt-test-feed"), new XAttribute("value", feed));
        var clear = sources.FindIndex(e => e.Name == "clear");
        sources.Insert(clear + 1, local);
        var config = new XDocument(
            new XElement("configuration",
                new XElement("packageSources", sources),
                new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", AppPackages))),
                new XElement("fallbackPackageFolders", new XElement("clear"),
                    new XElement("add", new XAttribute("key", "user-global-packages"), new XAttribute("value", GlobalPackages)))));
        config.Save(path);
    }

    /// <inheritdoc />
    public void Dispose() => _temp.Dispose();
}
