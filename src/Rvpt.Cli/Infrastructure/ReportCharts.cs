using Rvpt.Backdoor;
using ScottPlot;

namespace Rvpt.Cli;

/// <summary>The report's PNG charts (ScottPlot): ASR and CA per attack and defence, mean over seeds with the spread as error bars.</summary>
internal static class ReportCharts
{
    public static void Write(DefenceReport report, string directory)
    {
        Bars(Path.Combine(directory, "asr.png"), "Attack success rate (%)", report.Cells, m => m.AttackSuccessRate);
        Bars(Path.Combine(directory, "ca.png"), "Clean accuracy (%)", report.Cells, m => m.CleanAccuracy);
    }

    private static void Bars(string path, string title, IReadOnlyList<DefenceReportCell> cells, Func<BackdoorMetrics, double> metric)
    {
        var attacks = cells.Select(c => c.Attack).Distinct().ToList();
        var defences = cells.Select(c => c.Defence).Distinct().ToList();
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var ticks = new List<Tick>();
        for (int a = 0; a < attacks.Count; a++)
        {
            double groupStart = a * (defences.Count + 1);
            ticks.Add(new Tick(groupStart + (defences.Count - 1) / 2.0, attacks[a]));
            for (int d = 0; d < defences.Count; d++)
            {
                var values = cells.Where(c => c.Attack == attacks[a] && c.Defence == defences[d]).Select(c => 100 * metric(c.Metrics)).Where(double.IsFinite).ToArray();
                if (values.Length == 0) continue;
                double mean = values.Average();
                double sd = values.Length > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1)) : 0;
                plot.Add.Bar(new Bar { Position = groupStart + d, Value = mean, FillColor = palette.GetColor(d), Error = sd });
            }
        }
        for (int d = 0; d < defences.Count; d++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = defences[d], FillColor = palette.GetColor(d) });
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.SetLimitsY(0, 105);
        plot.Title(title);
        plot.YLabel("%");
        plot.SavePng(path, 1000, 520);
    }
}
