using System.Diagnostics;
using System.Globalization;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Rvpt.Tests;

/// <summary>
/// Kills a training process (Rvpt.TrainingHelper, a tiny FewShotTrainer with a checkpoint after every step) twice —
/// once by itself right after a step, once from outside at an arbitrary moment, possibly mid-write — and resumes it in
/// new processes: the checkpoint is always readable, and the final prompts are bit-identical to an uninterrupted run.
/// </summary>
public sealed class TrainingProcessKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private sealed record Run(int ExitCode, List<string> Lines, bool KilledByTest);

    [Fact]
    public void KilledTrainingResumesInANewProcessToBitIdenticalPrompts()
    {
        using var temp = new TempDirectory();
        var state = temp.File("state");
        var clock = Stopwatch.StartNew();

        var reference = Helper("--out", temp.File("reference.safetensors"));
        Assert.Equal(0, reference.ExitCode);
        Assert.Equal(12, reference.Lines.Count(l => l.StartsWith("step ", StringComparison.Ordinal)));

        // 1. The process kills itself (SIGKILL) right after its 6th step: epoch 2, step 2 of 4.
        var first = Helper("--out", temp.File("resumed.safetensors"), "--state", state, "--every", "1", "--die-after-step", "6");
        Assert.NotEqual(0, first.ExitCode);
        Assert.Equal("step 2 2", first.Lines.Last(l => l.StartsWith("step ", StringComparison.Ordinal)));
        Assert.False(File.Exists(temp.File("resumed.safetensors")));
        var afterFirst = ReadablePosition(state);
        Assert.True(afterFirst is (1, 1) or (1, 2), $"state after the first kill: {afterFirst}");

        // 2. Resumed, then killed from outside as soon as it reports its 3rd step: wherever it is by then.
        var second = Helper(["--out", temp.File("resumed.safetensors"), "--state", state, "--every", "1"], killAfterLines: 3);
        Assert.True(second.KilledByTest || second.ExitCode == 0, $"exit code {second.ExitCode}");
        var afterSecond = ReadablePosition(state);
        Assert.True(afterSecond.CompareTo(afterFirst) >= 0, $"state went back from {afterFirst} to {afterSecond}");

        // 3. Resumed to the end.
        var last = Helper("--out", temp.File("resumed.safetensors"), "--state", state, "--every", "1");
        Assert.Equal(0, last.ExitCode);
        var done = last.Lines.Single(l => l.StartsWith("done ", StringComparison.Ordinal)).Split(' ');
        output.WriteLine($"first kill left {afterFirst}, second {afterSecond}; the last run resumed from epoch {done[1]}, step {done[2]} and ran {done[3]} steps; {clock.Elapsed.TotalSeconds:F1} s in all");
        Assert.True(int.Parse(done[3], CultureInfo.InvariantCulture) < 12, "the last run started from scratch");

        Assert.Equal(File.ReadAllBytes(temp.File("reference.safetensors")), File.ReadAllBytes(temp.File("resumed.safetensors")));
        Assert.Equal([TrainingState.FileName], Directory.GetFiles(state).Select(Path.GetFileName)); // no temporary files left
    }

    /// <summary>The position in the state file, which must load completely.</summary>
    private static (int Epoch, int Step) ReadablePosition(string state)
    {
        var tensors = SafetensorsFile.Load(Path.Combine(state, TrainingState.FileName), null, out var meta);
        foreach (var t in tensors.Values) t.Dispose();
        Assert.Equal(new[] { "momentum_buffer", "prompts" }, tensors.Keys.Order());
        return (int.Parse(meta["epochs_completed"], CultureInfo.InvariantCulture), int.Parse(meta["steps_completed"], CultureInfo.InvariantCulture));
    }

    private Run Helper(params string[] args) => Helper(args, killAfterLines: 0);

    /// <summary>Runs the helper; with <paramref name="killAfterLines"/> &gt; 0, kills it on reading that many step lines.</summary>
    private Run Helper(string[] args, int killAfterLines)
    {
        var start = new ProcessStartInfo(DotnetHost(), [Path.Combine(AppContext.BaseDirectory, "Rvpt.TrainingHelper.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // libgomp's busy-waiting makes the helper's OpenMP teams (the training thread and the loader's workers) fight
        // over 2 cores: 10 s instead of 0.6 s. Passive waiting changes no result.
        start.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("the helper did not start");
        var errors = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        var killed = false;
        var deadline = Stopwatch.StartNew();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            lines.Add(line);
            if (killAfterLines > 0 && !killed && lines.Count(l => l.StartsWith("step ", StringComparison.Ordinal)) == killAfterLines)
            {
                process.Kill(entireProcessTree: true);
                killed = true;
            }
            if (deadline.Elapsed > Timeout)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"the helper ran for more than {Timeout}");
            }
        }
        Assert.True(process.WaitForExit(Timeout), "the helper did not exit");
        output.WriteLine($"helper {string.Join(' ', args.Select(Path.GetFileName))}: exit {process.ExitCode}{(killed ? " (killed by the test)" : "")}, {lines.Count} lines");
        var stderr = errors.GetAwaiter().GetResult();
        if (process.ExitCode != 0 && !killed && stderr.Length > 0) output.WriteLine(stderr);
        return new Run(process.ExitCode, lines, killed);
    }

    /// <summary>The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
