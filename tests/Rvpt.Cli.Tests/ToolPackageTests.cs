using System.Globalization;
using Rvpt.Packaging.Tests;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>
/// The packed tool: `dotnet pack` makes the Rvpt.Cli package, `dotnet tool install --tool-path` installs it from the
/// folder, and the installed `rvpt` runs (help, and a conversion that loads libtorch through the packed native
/// libraries). Outside the repository, with a private NuGet packages folder, so nothing global changes.
/// </summary>
public class ToolPackageTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(10);

    [SkippableFact]
    public void Packed_tool_installs_into_a_tool_path_and_runs()
    {
        var repository = Fixtures.RepositoryRoot;
        using var temp = new TempDirectory();
        Skip.If(Path.GetFullPath(temp.Path).StartsWith(repository, StringComparison.Ordinal), "the temporary folder lies inside the repository");
        var feed = Path.Combine(temp.Path, "feed");
        var suffix = "test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var pack = DotnetCli.Run(repository, StepTimeout, null, "pack", Path.Combine(repository, "src", "Rvpt.Cli", "Rvpt.Cli.csproj"), "-c", "Release",
            "-o", feed, "--artifacts-path", Path.Combine(temp.Path, "artifacts"), "-p:VersionSuffix=" + suffix);
        Assert.True(pack.ExitCode == 0, pack.Describe());
        var package = Assert.Single(Directory.GetFiles(feed, "Rvpt.Cli.*.nupkg"));
        var version = Path.GetFileNameWithoutExtension(package)["Rvpt.Cli.".Length..];
        Assert.EndsWith(suffix, version);

        var tools = Path.Combine(temp.Path, "tools");
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(temp.Path, "packages") };
        var install = DotnetCli.Run(temp.Path, StepTimeout, env, "tool", "install", "--tool-path", tools, "--add-source", feed, "Rvpt.Cli", "--version", version);
        Assert.True(install.ExitCode == 0, install.Describe());
        var rvpt = Path.Combine(tools, OperatingSystem.IsWindows() ? "rvpt.exe" : "rvpt");
        Assert.True(File.Exists(rvpt), $"{rvpt} was not installed:\n{install.Output}");

        var help = Run(rvpt, temp.Path, "--help");
        Assert.True(help.ExitCode == 0, help.Describe());
        foreach (var command in new[] { "zero-shot", "defend", "evaluate", "suite", "convert", "sweep", "report" })
            Assert.Contains(command, help.Output);

        // libtorch loads from the installed package: a conversion of the tiny fixture model.
        var model = TestData.TinyModel(Path.Combine(temp.Path, "model"));
        var converted = Path.Combine(temp.Path, "converted.safetensors");
        var convert = Run(rvpt, temp.Path, "convert", model, "--out", converted);
        Assert.True(convert.ExitCode == 0, convert.Describe());
        Assert.True(new FileInfo(converted).Length > 1_000_000);
        Assert.Equal(2, Run(rvpt, temp.Path, "convert", Path.Combine(temp.Path, "missing.pt"), "--out", converted).ExitCode);
    }

    private static ProcessResult Run(string executable, string directory, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(executable) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{executable} {string.Join(' ', args)} did not finish.");
        }
        return new ProcessResult(process.ExitCode, stdout.Result + stderr.Result, $"{executable} {string.Join(' ', args)}");
    }
}
