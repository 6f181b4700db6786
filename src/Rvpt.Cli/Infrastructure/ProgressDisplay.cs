using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Rvpt.Cli;

/// <summary>
/// Runs long work under a Spectre.Console progress bar (elapsed, ETA and a status text such as the current loss) on an
/// interactive terminal, and as plain start/finish lines otherwise (redirected output, CI, tests).
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Reports progress: the fraction done in [0, 1] and a short status text (or null to keep the last).</summary>
    public delegate void Reporter(double fraction, string? status);

    public static T Run<T>(CliContext context, string title, Func<Reporter, T> work)
    {
        var clock = Stopwatch.StartNew();
        T result;
        if (!context.Interactive)
        {
            context.Status.MarkupLine($"[grey]{Now()}[/] {Markup.Escape(title)} ...");
            result = work((_, _) => { });
        }
        else
        {
            result = context.Status.Progress()
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
                        if (status is not null) task.Description = Markup.Escape($"{title}: {status}");
                    });
                    task.Value = 1.0;
                    task.Description = Markup.Escape(title);
                    return value;
                });
        }
        context.Status.MarkupLine($"[grey]{Now()}[/] [green]done[/] {Markup.Escape(title)} [grey]({clock.Elapsed.TotalSeconds:F1} s)[/]");
        return result;
    }

    private static string Now() => DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
