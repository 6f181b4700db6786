using System.Globalization;
using System.Text;
using System.Text.Json;
using Rvpt.Backdoor;
using Rvpt.Clip;

namespace Rvpt.Demo;

/// <summary>Writes the demo's results folder: the table (Markdown, CSV, JSON), the selection record, the gates, charts and a summary.</summary>
internal static class DemoReportWriter
{
    /// <summary>Writes everything into <paramref name="directory"/> and returns the report.</summary>
    public static DefenceReport Write(string directory, string heading, IReadOnlyList<DemoOutcome> outcomes, IReadOnlyList<string> settingsLines)
    {
        Directory.CreateDirectory(directory);
        var report = new DefenceReport();
        foreach (var o in outcomes)
        {
            string? note = o.GatePassed == false ? $"{o.Attack}: {o.GateText}; defence numbers on this attack are not meaningful." : null;
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
            md.Append(Invariant($"| {o.Attack} | {(o.CleanModel is null ? "-" : o.CleanModel.ToCell())} | {(none is null ? "-" : none.Metrics.ToCell())} | {o.GateText} |\n"));
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
        AtomicFile.WriteAllText(Path.Combine(directory, "report.md"), md.ToString());

        var selection = outcomes.SelectMany(o => o.Suite.Runs).Where(r => r.Selection.Count > 0).Select(r => new
        {
            attack = r.Attack, defence = DefenceSuite.DisplayName(r.Defence), seed = r.Seed, configuration = r.Configuration,
            candidates = r.Selection.Select(t => new { candidate = t.Candidate, validation_accuracy = t.ValidationAccuracy, chosen = t.Chosen }),
        });
        AtomicFile.WriteAllText(Path.Combine(directory, "selection.json"), JsonSerializer.Serialize(selection, new JsonSerializerOptions { WriteIndented = true }));

        var runs = outcomes.SelectMany(o => o.Suite.Runs).ToList();
        DemoCharts.MetricBars(Path.Combine(directory, "asr.png"), "Attack success rate (%) per attack and defence", runs, m => m.AttackSuccessRate);
        DemoCharts.MetricBars(Path.Combine(directory, "ca.png"), "Clean accuracy (%) per attack and defence", runs, m => m.CleanAccuracy);
        foreach (var o in outcomes.Where(o => o.Suite.ResistivityBefore is not null))
        {
            DemoCharts.Resistivity(Path.Combine(directory, $"resistivity-{Slug(o.Attack)}.png"),
                $"Perturbation resistivity per block, {o.Attack} model: undefended (dashed) vs RVPT (solid)", o.Suite.ResistivityBefore!, o.Suite.ResistivityAfter);
        }
        return report;
    }

    /// <summary>A file-name-safe lower-case form of <paramref name="text"/>.</summary>
    public static string Slug(string text) => new(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
