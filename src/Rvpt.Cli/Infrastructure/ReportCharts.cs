using System.Globalization;
using Rvpt.Backdoor;
using ScottPlot;

namespace Rvpt.Cli;

/// <summary>
/// The reports' PNG charts (ScottPlot): ASR and CA per attack and defence (mean over seeds, the spread as error bars),
/// and perturbation resistivity per block. Used by <c>rvpt suite</c>, <c>rvpt report merge</c> and <c>rvpt lab demo</c>.
/// </summary>
internal static class ReportCharts
{
    /// <summary>Writes <c>asr.png</c> and <c>ca.png</c> of <paramref name="report"/> into <paramref name="directory"/>.</summary>
    public static void Write(DefenceReport report, string directory)
    {
        MetricBars(Path.Combine(directory, "asr.png"), "Attack success rate (%) per attack and defence", report.Cells, m => m.AttackSuccessRate);
        MetricBars(Path.Combine(directory, "ca.png"), "Clean accuracy (%) per attack and defence", report.Cells, m => m.CleanAccuracy);
    }

    /// <summary>Grouped bars of one metric (mean over seeds, in %) per attack and defence, with the seed spread as error bars.</summary>
    public static void MetricBars(string path, string title, IReadOnlyList<DefenceReportCell> cells, Func<BackdoorMetrics, double> metric)
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
                var (mean, sd) = SeedStatistics.MeanSd(values);
                plot.Add.Bar(new Bar { Position = groupStart + d, Value = mean, FillColor = palette.GetColor(d), Error = sd });
            }
        }
        for (int d = 0; d < defences.Count; d++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = defences[d], FillColor = palette.GetColor(d) });
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.UpperRight;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
        plot.Axes.SetLimitsY(0, 105);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel("%");
        plot.SavePng(path, 1000, 520);
    }

    /// <summary>Perturbation resistivity per block before (dashed) and after RVPT (solid), one colour per perturbation.</summary>
    public static void Resistivity(string path, string title, IReadOnlyDictionary<string, double[]> before, IReadOnlyDictionary<string, double[]>? after)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var (name, values) in before)
        {
            var color = palette.GetColor(i++);
            var xs = Enumerable.Range(1, values.Length).Select(x => (double)x).ToArray();
            var b = plot.Add.Scatter(xs, values);
            b.Color = color;
            b.LinePattern = LinePattern.Dashed;
            b.LegendText = $"{name} (undefended)";
            if (after is not null && after.TryGetValue(name, out var prompted))
            {
                var p = plot.Add.Scatter(xs, prompted);
                p.Color = color;
                p.LegendText = $"{name} (RVPT)";
            }
        }
        int blocks = before.Values.First().Length;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(1, blocks).Select(b => new Tick(b, b.ToString(CultureInfo.InvariantCulture))).ToArray());
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.LowerLeft;
        plot.Title(title);
        plot.XLabel("block");
        plot.YLabel("cosine(clean, perturbed) of the class token");
        plot.SavePng(path, 1000, 560);
    }

    /// <summary>A file-name-safe lower-case form of <paramref name="text"/> (e.g. an attack name in <c>resistivity-badnets.png</c>).</summary>
    public static string Slug(string text) => new(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());
}
