using System.Globalization;
using System.Text.Json.Nodes;
using Rvpt.Backdoor;
using Spectre.Console;

namespace Rvpt.Cli.Lab;

/// <summary>
/// Prints the lab demo's result on standard output: the "ASR% (CA%)" table and a plain statement per attack, or with
/// <c>--json</c> one document with the cells, the planting gates and the output folder.
/// </summary>
internal static class LabDemoSummary
{
    public static void Print(CliContext context, DefenceReport report, IReadOnlyList<LabDemoOutcome> outcomes, string outputDirectory, TimeSpan elapsed)
    {
        if (context.Json)
        {
            context.WriteJson(new JsonObject
            {
                ["output"] = Path.GetFullPath(outputDirectory),
                ["elapsed_seconds"] = elapsed.TotalSeconds,
                ["gates"] = new JsonArray(outcomes.Select(o => (JsonNode)new JsonObject { ["attack"] = o.Attack, ["planted"] = o.GatePassed, ["text"] = o.GateText }).ToArray()),
                ["results"] = JsonNode.Parse(report.ToJson()),
            }.ToJsonString(JsonOutput.Indented));
            return;
        }
        var ui = context.Out;
        var table = new Table().Title("ASR% (CA%), mean ± sd over seeds").AddColumn("defence");
        foreach (var o in outcomes) table.AddColumn(new TableColumn(Markup.Escape(o.Attack)).RightAligned());
        var defences = outcomes.SelectMany(o => o.Suite.Runs).Select(r => r.Defence).Distinct().ToList();
        foreach (var d in defences)
        {
            var row = new List<string> { Markup.Escape(DefenceSuite.DisplayName(d)) };
            foreach (var o in outcomes)
            {
                var runs = o.Suite.Runs.Where(r => r.Defence == d).ToList();
                var text = runs.Count == 0 ? "-" : Cell(runs);
                row.Add(o.GatePassed ? Markup.Escape(text) : $"[grey]{Markup.Escape(text)} *[/]");
            }
            table.AddRow(row.ToArray());
        }
        ui.Write(table);
        if (outcomes.Any(o => !o.GatePassed))
            ui.MarkupLine("[grey]* the backdoor did not reach the planting gate; these cells do not measure a defence.[/]");

        ui.WriteLine();
        foreach (var o in outcomes) ui.WriteLine(Statement(o));
        ui.WriteLine();
        ui.WriteLine($"Finished in {elapsed.TotalMinutes:F1} min. Results (report.md, results.md/.csv/.json, selection.json, asr.png, ca.png, resistivity-*.png/.csv) are in:");
        ui.MarkupLine($"  [bold]{Markup.Escape(Path.GetFullPath(outputDirectory))}[/]");
    }

    private static string Statement(LabDemoOutcome o)
    {
        var none = o.Suite.Runs.FirstOrDefault(r => r.Defence == DefenceKind.None)?.Metrics;
        var rvpt = o.Suite.Runs.Where(r => r.Defence == DefenceKind.Rvpt).ToList();
        var vpt = o.Suite.Runs.Where(r => r.Defence == DefenceKind.PlainVpt).ToList();
        if (none is null || rvpt.Count == 0) return $"{o.Attack}: {o.GateText}.";
        double asr0 = none.AttackSuccessRate, ca0 = none.CleanAccuracy;
        double asr = rvpt.Average(r => r.Metrics.AttackSuccessRate), ca = rvpt.Average(r => r.Metrics.CleanAccuracy);
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{o.Attack}: backdoor {o.GateText}. RVPT moved ASR {100 * asr0:F1}% -> {100 * asr:F1}% and CA {100 * ca0:F1}% -> {100 * ca:F1}%");
        if (vpt.Count > 0)
            text += string.Create(CultureInfo.InvariantCulture, $"; plain VPT reached ASR {100 * vpt.Average(r => r.Metrics.AttackSuccessRate):F1}%");
        bool claim = asr <= 0.1 * asr0 && ca >= ca0 - 0.02 && (vpt.Count == 0 || asr < vpt.Average(r => r.Metrics.AttackSuccessRate));
        return text + (!o.GatePassed ? " (not meaningful: gate failed)." : claim
            ? " - the paper's claim holds here (>= 90% relative ASR drop, CA within 2 pts, better than VPT)."
            : " - the paper's claim does NOT hold here (needs >= 90% relative ASR drop, CA within 2 pts, better than VPT).");
    }

    private static string Cell(List<DefenceRun> runs)
    {
        static string MeanSd(IEnumerable<double> values)
        {
            var v = values.Select(x => 100 * x).ToArray();
            var (mean, sd) = SeedStatistics.MeanSd(v);
            if (v.Length == 1) return mean.ToString("F1", CultureInfo.InvariantCulture);
            return string.Create(CultureInfo.InvariantCulture, $"{mean:F1}±{sd:F1}");
        }
        return $"{MeanSd(runs.Select(r => r.Metrics.AttackSuccessRate))} ({MeanSd(runs.Select(r => r.Metrics.CleanAccuracy))})";
    }
}
