using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Rvpt.Cli;

/// <summary>
/// Where a command writes. Results (tables, CSV, JSON) go to standard output (<see cref="Out"/>, <see cref="Stdout"/>);
/// progress bars, status lines and the libraries' log go to standard error (<see cref="Status"/>), so
/// <c>rvpt ... --json | jq</c> and <c>rvpt ... --format csv &gt; x.csv</c> get the result alone. Colours and progress
/// bars only appear on a terminal.
/// </summary>
internal sealed class CliContext : IDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    public CliContext(TextWriter stdout, TextWriter stderr, bool json, bool verbose)
    {
        Json = json;
        Stdout = stdout;
        Stderr = stderr;
        Out = CreateConsole(stdout, ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected);
        Status = CreateConsole(stderr, ReferenceEquals(stderr, System.Console.Error) && !System.Console.IsErrorRedirected);
        _loggerFactory = LoggerFactory.Create(b => b
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace) // the log never mixes with results on stdout
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddFilter((_, level) => level >= (verbose ? LogLevel.Information : LogLevel.Warning)));
        Logger = _loggerFactory.CreateLogger("rvpt");
    }

    /// <summary>Machine output requested: standard output holds exactly one JSON document.</summary>
    public bool Json { get; }

    /// <summary>Standard output, for CSV and JSON.</summary>
    public TextWriter Stdout { get; }

    /// <summary>Standard error, for error messages.</summary>
    public TextWriter Stderr { get; }

    /// <summary>Standard output as a console, for tables.</summary>
    public IAnsiConsole Out { get; }

    /// <summary>Standard error as a console, for progress and status lines.</summary>
    public IAnsiConsole Status { get; }

    /// <summary>The libraries' logger (warnings by default, information with <c>--verbose</c>), on standard error.</summary>
    public ILogger Logger { get; }

    /// <summary>Whether progress bars can be drawn (standard error is an interactive terminal).</summary>
    public bool Interactive => Status.Profile.Capabilities.Interactive && Status.Profile.Capabilities.Ansi;

    /// <summary>Writes <paramref name="json"/> (a complete document) to standard output.</summary>
    public void WriteJson(string json)
    {
        Stdout.WriteLine(json);
        Stdout.Flush();
    }

    /// <summary>Writes plain text to standard output.</summary>
    public void Result(string text)
    {
        Stdout.Write(text);
        Stdout.Flush();
    }

    /// <summary>Writes a status line (standard error).</summary>
    public void Note(string text) => Status.MarkupLine($"[grey]{Markup.Escape(text)}[/]");

    /// <summary>Writes an error line (standard error, plain text).</summary>
    public void ErrorLine(string prefix, string message)
    {
        Stderr.WriteLine($"{prefix}: {message}");
        Stderr.Flush();
    }

    public void Dispose() => _loggerFactory.Dispose();

    private static IAnsiConsole CreateConsole(TextWriter writer, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal) console.Profile.Width = 240; // no wrapping of paths in logs and files
        return console;
    }
}
