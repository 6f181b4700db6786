using System.Diagnostics;
using Spectre.Console;

namespace Rvpt.Demo;

/// <summary>
/// Runs the demo's long phases under Spectre.Console progress bars (with elapsed time and ETA) on an interactive
/// terminal, and as plain start/finish lines when the output is redirected (CI, tests, log files).
/// </summary>
internal sealed class DemoConsole(IAnsiConsole console)
{
    /// <summary>Reports a phase's progress: fraction done in [0, 1] and a short status text.</summary>
    public delegate void PhaseReporter(double fraction, string? status);

    private bool Interactive => console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;

    /// <summary>The underlying console.</summary>
    public IAnsiConsole Ansi => console;

    /// <summary>Runs <paramref name="work"/> as one phase titled <paramref name="title"/>.</summary>
    public T Phase<T>(string title, Func<PhaseReporter, T> work)
    {
        var clock = Stopwatch.StartNew();
        T result;
        if (!Interactive)
        {
            console.MarkupLine($"[grey]{Now()}[/] {Markup.Escape(title)} ...");
            result = work((_, _) => { });
        }
        else
        {
            result = console.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                    new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                    var value = work((fraction, status) =>
                    {
                        task.Value = Math.Clamp(fraction, 0, 1);
                        task.Description = Markup.Escape(status is null ? title : $"{title}: {status}");
                    });
                    task.Value = 1.0;
                    task.Description = Markup.Escape(title);
                    return value;
                });
        }
        console.MarkupLine($"[grey]{Now()}[/] [green]done[/] {Markup.Escape(title)} [grey]({clock.Elapsed.TotalSeconds:F1} s)[/]");
        return result;
    }

    /// <summary>Writes a line of plain text.</summary>
    public void Line(string text = "") => console.WriteLine(text);

    /// <summary>Writes a markup line.</summary>
    public void Rich(string markup) => console.MarkupLine(markup);

    private static string Now() => DateTime.Now.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
}
