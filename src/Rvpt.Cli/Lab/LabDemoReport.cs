using System.Globalization;
using System.Text;
using System.Text.Json;
using Rvpt.Backdoor;

namespace Rvpt.Cli.Lab;

/// <summary>
/// Writes the lab demo's results folder: the table (<c>results.md/.csv/.json</c>), <c>report.md</c> (settings, table,
/// planting gates, the hyper-parameter selection, time per defence), <c>selection.json</c>, and the charts
/// (<c>asr.png</c>, <c>ca.png</c>, <c>resistivity-&lt;attack&gt;.png</c> with its numbers in <c>resistivity-&lt;attack&gt;.csv</c>).
/// </summary>
internal static class LabDemoReport
{
    /// <summary>Writes everything into <paramref name="directory"/> and returns the report.</summary>
    public static DefenceReport Write(string directory, string heading, IReadOnlyList<LabDemoOutcome> outcomes, IReadOnlyList<string> settingsLines)
    {
        Directory.CreateDirectory(directory);
        var report = new DefenceReport();
        foreach (var o in outcomes)
        {
            string? note = o.GatePassed ? null : $"{o.Attack}: {o.GateText}; defence numbers on this attack are not meaningful.";
            foreach (var run in o.Suite.Runs) report.Add(run.ToCell(note));
        }
        report.Save(directory);

        var md = new StringBuilder();
        md.Append("# ").Append(heading).Append("\n\n");
        foreach (var line in settingsLines) md.Append("- ").Append(line).Append('\n');
        md.Append('\n').Append(report.ToMarkdown()).Append('\n');
        md.Append("## Planting gates\n\n| attack | clean model ASR (CA) | backdoored, no defence ASR (CA) | gate |\n|---|---|---|---|\n");
        foreach (var o in outcomes)
        {
            var none = o.Suite.Runs.FirstOrDefault(r => r.Defence == DefenceKind.None);
            md.Append(Invariant($"| {o.Attack} | {o.CleanModel.ToCell()} | {(none is null ? "-" : none.Metrics.ToCell())} | {o.GateText} |\n"));
        }
        md.Append("\n## Hyper-parameter selection (clean validation accuracy; ASR is not used)\n\n| attack | defence | seed | candidates (validation CA %) | chosen |\n|---|---|---|---|---|\n");
        foreach (var run in outcomes.SelectMany(o => o.Suite.Runs).Where(r => r.Selection.Count > 0))
        {
            var candidates = string.Join(", ", run.Selection.Select(t => Invariant($"{t.Candidate}: {100 * t.ValidationAccuracy:F1}")));
            var chosen = run.Selection.FirstOrDefault(t => t.Chosen)?.Candidate ?? "-";
            md.Append(Invariant($"| {run.Attack} | {DefenceSuite.DisplayName(run.Defence)} | {run.Seed} | {candidates} | {chosen} |\n"));
        }
        md.Append("\n## Time per defence\n\n| attack | defence | seed | seconds |\n|---|---|---|---|\n");
        foreach (var run in outcomes.SelectMany(o => o.Suite.Runs))
            md.Append(Invariant($"| {run.Attack} | {DefenceSuite.DisplayName(run.Defence)} | {run.Seed} | {run.Elapsed.TotalSeconds:F1} |\n"));
        AtomicText.Write(Path.Combine(directory, "report.md"), md.ToString());

        var selection = outcomes.SelectMany(o => o.Suite.Runs).Where(r => r.Selection.Count > 0).Select(r => new
        {
            attack = r.Attack, defence = DefenceSuite.DisplayName(r.Defence), seed = r.Seed, configuration = r.Configuration,
            candidates = r.Selection.Select(t => new { candidate = t.Candidate, validation_accuracy = t.ValidationAccuracy, chosen = t.Chosen }),
        });
        AtomicText.Write(Path.Combine(directory, "selection.json"), JsonSerializer.Serialize(selection, new JsonSerializerOptions { WriteIndented = true }));

        ReportCharts.Write(report, directory);
        foreach (var o in outcomes.Where(o => o.Suite.ResistivityBefore is not null))
            ResistivityReport.Write(directory, o.Attack, o.Suite.ResistivityBefore!, o.Suite.ResistivityAfter);
        return report;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
