using System.Text.Json;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>What one in-process run of the tool printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string Describe() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    /// <summary>Asserts success and parses standard output as JSON.</summary>
    public JsonElement Json()
    {
        Assert.True(ExitCode == 0, Describe());
        using var document = JsonDocument.Parse(Stdout);
        return document.RootElement.Clone();
    }
}

/// <summary>Runs <c>rvpt</c> in process, as the tool's entry point does, with captured output.</summary>
internal static class CliRun
{
    public static CliResult Run(params string[] args) => Run(CancellationToken.None, args);

    public static CliResult Run(CancellationToken cancellationToken, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = RvptCli.RunAsync(args, stdout, stderr, cancellationToken).GetAwaiter().GetResult();
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts a bad-input exit (code 2) whose message contains every one of <paramref name="expected"/>.</summary>
    public static void AssertBadInput(CliResult result, params string[] expected)
    {
        Assert.True(result.ExitCode == 2, result.Describe());
        foreach (var text in expected) Assert.Contains(text, result.Stderr);
    }
}
