using Rvpt.Backdoor;
using ScottPlot;

namespace Rvpt.Demo;

/// <summary>The demo's PNG charts (ScottPlot): ASR and CA per defence and attack, and perturbation resistivity per block.</summary>
internal static class DemoCharts
{
    /// <summary>
    /// Grouped bars of one metric (mean over seeds, in %) per attack and defence, with the seed spread as error bars.
    /// Writes <paramref name="path"/>.
    /// </summary>
    public static void MetricBars(string path, string title, IReadOnlyList<DefenceRun> runs, Func<BackdoorMetrics, double> metric)
    {
        var attacks = runs.Select(r => r.Attack).Distinct().ToList();
        var defences = runs.Select(r => r.Defence).Distinct().ToList();
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var ticks = new List<Tick>();
        for (int a = 0; a < attacks.Count; a++)
        {
            double groupStart = a * (defences.Count + 1);
            ticks.Add(new Tick(groupStart + (defences.Count - 1) / 2.0, attacks[a]));
            for (int d = 0; d < defences.Count; d++)
            {
                var values = runs.Where(r => r.Attack == attacks[a] && r.Defence == defences[d]).Select(r => 100 * metric(r.Metrics)).ToArray();
                if (values.Length == 0) continue;
                var (mean, sd) = SeedStatistics.MeanSd(values);
                var bar = new Bar { Position = groupStart + d, Value = mean, FillColor = palette.GetColor(d), Error = sd };
                plot.Add.Bar(bar);
            }
        }
        for (int d = 0; d < defences.Count; d++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = DefenceSuite.DisplayName(defences[d]), FillColor = palette.GetColor(d) });
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
            Enumerable.Range(1, blocks).Select(b => new Tick(b, b.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        plot.Legend.IsVisible = true;
        plot.Legend.Alignment = Alignment.LowerLeft;
        plot.Title(title);
        plot.XLabel("block");
        plot.YLabel("cosine(clean, perturbed) of the class token");
        plot.SavePng(path, 1000, 560);
    }
}
