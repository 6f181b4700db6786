using System.CommandLine;
using Rvpt.Cli.Commands;
using static TorchSharp.torch;

namespace Rvpt.Cli;

/// <summary>
/// The <c>rvpt</c> command tree. <see cref="RunAsync"/> is the whole tool (the process entry point only adds Ctrl+C and
/// SIGTERM handling), so tests run every command in process with their own output writers.
/// </summary>
internal static class RvptCli
{
    public static RootCommand Build()
    {
        var global = new GlobalOptions();
        var root = new RootCommand("rvpt: CLIP zero-shot, Repulsive Visual Prompt Tuning (RVPT) against backdoors, CA/ASR evaluation, checkpoint conversion, defence suites, sweeps and reports.")
        {
            global.Json,
            global.Verbose,
            global.Threads,
            ZeroShotCommand.Create(global),
            DefendCommand.Create(global),
            EvaluateCommand.Create(global),
            SuiteCommand.Create(global),
            ConvertCommand.Create(global),
            SweepCommand.Create(global),
            ReportCommand.Create(global),
            LabCommand.Create(global),
        };
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (<see cref="ExitCodes"/>).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        var parse = Build().Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // Ctrl+C is the caller's (Program.cs): training must finish its step and save, which can take longer than
            // any fixed termination timeout.
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };
        return parse.InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>
    /// Wraps a command's work: builds the output context, maps bad input to exit code 2 and cancellation to 130, and
    /// prints one clear message for every failure.
    /// </summary>
    public static void SetWork(Command command, GlobalOptions global, Func<ParseResult, CliContext, CancellationToken, int> work)
    {
        command.SetAction((parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            using var context = new CliContext(stdout, stderr, parse.GetValue(global.Json), parse.GetValue(global.Verbose));
            try
            {
                if (parse.GetValue(global.Threads) is var threads and not 0)
                    set_num_threads(threads > 0 ? threads : throw new CliInputException($"--threads must be >= 1 (or 0 for libtorch's default); got {threads}."));
                return Task.FromResult(work(parse, context, cancellationToken));
            }
            catch (CliInputException e)
            {
                context.ErrorLine("error", e.Message);
                return Task.FromResult(ExitCodes.BadInput);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                context.ErrorLine("cancelled", "work saved so far is kept (rvpt defend --resume continues a training run; the lab's finished models stay in its cache).");
                return Task.FromResult(ExitCodes.Cancelled);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
            {
                context.ErrorLine("error", e.Message);
                return Task.FromResult(ExitCodes.BadInput);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                context.ErrorLine("failed", e.Message);
                return Task.FromResult(ExitCodes.Failure);
            }
        });
    }
}

/// <summary>Options every command takes.</summary>
internal sealed class GlobalOptions
{
    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Machine output: standard output holds exactly one JSON document; progress and messages go to standard error.",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "Log the libraries' information messages (epochs, selection trials) to standard error.", Recursive = true };

    /// <summary>libtorch's intra-op threads (<c>torch.set_num_threads</c>) for the whole process; 0 keeps libtorch's default.</summary>
    public Option<int> Threads { get; } = new("--threads")
    {
        Description = "libtorch intra-op threads (torch.set_num_threads); 0 keeps libtorch's default (one per core).",
        DefaultValueFactory = _ => 0,
        Recursive = true,
    };
}
