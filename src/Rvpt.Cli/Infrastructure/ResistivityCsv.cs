using System.Globalization;
using System.Text;

namespace Rvpt.Cli;

/// <summary>
/// The numbers behind a <c>resistivity-&lt;attack&gt;.png</c> chart, as <c>resistivity-&lt;attack&gt;.csv</c>: one row per
/// perturbation and block (1-based) with the class token's cosine before RVPT (<c>undefended</c>) and after
/// (<c>rvpt</c>, empty when RVPT was not run). Used by <c>rvpt suite</c> and <c>rvpt lab demo</c>.
/// </summary>
internal static class ResistivityCsv
{
    /// <summary>The CSV text of <paramref name="before"/> and <paramref name="after"/> (round-trip doubles, invariant culture).</summary>
    public static string Format(IReadOnlyDictionary<string, double[]> before, IReadOnlyDictionary<string, double[]>? after)
    {
        var csv = new StringBuilder("perturbation,block,undefended,rvpt\n");
        foreach (var (name, values) in before)
        {
            double[]? prompted = after is not null && after.TryGetValue(name, out var p) ? p : null;
            for (int b = 0; b < values.Length; b++)
            {
                string rvpt = prompted is not null && b < prompted.Length ? R(prompted[b]) : "";
                csv.Append(CultureInfo.InvariantCulture, $"{OutputFormats.Csv(name)},{b + 1},{R(values[b])},{rvpt}\n");
            }
        }
        return csv.ToString();
    }

    /// <summary>Writes <see cref="Format"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, double[]> before, IReadOnlyDictionary<string, double[]>? after) =>
        AtomicText.Write(path, Format(before, after));

    private static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
