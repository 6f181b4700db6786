using Rvpt.Backdoor;

namespace Rvpt.Cli;

/// <summary>
/// One attack's perturbation-resistivity output: the chart <c>resistivity-&lt;attack&gt;.png</c> (<see cref="ReportCharts"/>)
/// and its numbers <c>resistivity-&lt;attack&gt;.csv</c> (<see cref="ResistivityCsv"/>). Used by <c>rvpt suite</c> and <c>rvpt lab demo</c>.
/// </summary>
internal static class ResistivityReport
{
    /// <summary>Writes both files into <paramref name="directory"/> and returns their names.</summary>
    public static string[] Write(string directory, string attack, IReadOnlyDictionary<string, double[]> before, IReadOnlyDictionary<string, double[]>? after)
    {
        var name = $"resistivity-{ReportCharts.Slug(attack)}";
        ReportCharts.Resistivity(Path.Combine(directory, name + ".png"),
            $"Perturbation resistivity per block, {attack} model: undefended (dashed) vs RVPT (solid)", before, after);
        ResistivityCsv.Write(Path.Combine(directory, name + ".csv"), before, after);
        return [name + ".png", name + ".csv"];
    }
}
