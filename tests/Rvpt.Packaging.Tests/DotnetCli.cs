using System.Diagnostics;
using System.Text;

namespace Rvpt.Packaging.Tests;

/// <summary>What a finished <c>dotnet</c> process did.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="Output">Standard output and standard error, interleaved as received.</param>
/// <param name="CommandLine">The command, for messages.</param>
public sealed record ProcessResult(int ExitCode, string Output, string CommandLine)
{
    /// <summary>A message for a failed assertion: the command, its exit code and the tail of its output.</summary>
    public string Describe()
    {
        var tail = Output.Length > 12_000 ? "..." + Output[^12_000..] : Output;
        return $"`{CommandLine}` exited with {ExitCode}:\n{tail}";
    }
}

/// <summary>Runs the <c>dotnet</c> CLI as a child process, isolated from the test host's MSBuild environment.</summary>
public static class DotnetCli
{
    /// <summary>The dotnet executable that runs these tests (the same SDK builds the fresh app).</summary>
    public static string Executable
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(host) && File.Exists(host))
                return host;
            var self = Environment.ProcessPath;
            if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
                return self;
            return "dotnet";
        }
    }

    /// <summary>
    /// Runs <c>dotnet <paramref name="arguments"/></c> in <paramref name="workingDirectory"/> and waits up to
    /// <paramref name="timeout"/> (then kills the process tree and fails).
    /// </summary>
    public static ProcessResult Run(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment,
        params string[] arguments)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);

        // The test host inherits MSBuild variables from `dotnet test` (MSBuildSDKsPath, MSBUILD_EXE_PATH, ...): a child
        // build must resolve its own. No node reuse: nothing of ours outlives the test.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null) psi.Environment.Remove(key);
                else psi.Environment[key] = value;
            }
        }

        var commandLine = "dotnet " + string.Join(' ', arguments);
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        void Append(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
        }
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
            lock (output)
                throw new TimeoutException($"`{commandLine}` did not finish within {timeout.TotalSeconds:F0} s:\n{output}");
        }
        process.WaitForExit(); // drains the asynchronous readers
        lock (output)
            return new ProcessResult(process.ExitCode, output.ToString(), commandLine);
    }
}
