using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rvpt.Clip;

namespace Rvpt.Backdoor;

/// <summary>
/// The "ASR% (CA%)" table of attacks x defences, written as Markdown (defences as rows, attacks as columns, as in the
/// paper), CSV and JSON (one record per cell with its configuration, seed and per-class metrics).
/// </summary>
public sealed class DefenceReport
{
    private readonly List<DefenceReportCell> _cells = new();

    /// <summary>A title for the Markdown table.</summary>
    public string Title { get; init; } = "ASR% (CA%) per attack and defence";

    /// <summary>The cells, in insertion order.</summary>
    public IReadOnlyList<DefenceReportCell> Cells => _cells;

    /// <summary>Adds a cell.</summary>
    public DefenceReport Add(DefenceReportCell cell)
    {
        _cells.Add(cell ?? throw new ArgumentNullException(nameof(cell)));
        return this;
    }

    /// <summary>
    /// The Markdown table; cells with several seeds show the mean ± sample standard deviation; notes become footnotes, one
    /// number per distinct text.
    /// </summary>
    public string ToMarkdown()
    {
        var attacks = _cells.Select(c => c.Attack).Distinct().ToList();
        var defences = _cells.Select(c => c.Defence).Distinct().ToList();
        var notes = new List<string>();
        var sb = new StringBuilder();
        sb.Append("### ").Append(Title).Append("\n\n| defence | ").Append(string.Join(" | ", attacks)).Append(" |\n|---|")
          .Append(string.Concat(attacks.Select(_ => "---|"))).Append('\n');
        foreach (var d in defences)
        {
            sb.Append("| ").Append(d).Append(" |");
            foreach (var a in attacks)
            {
                var group = _cells.Where(c => c.Attack == a && c.Defence == d).ToList();
                var text = group.Count == 0 ? "-" : Format(group);
                foreach (var note in group.Select(c => c.Note).Where(n => n is not null).Distinct())
                {
                    // One footnote per distinct text: a note shared by a whole column (an attack that did not plant) is numbered once.
                    int index = notes.IndexOf(note!);
                    if (index < 0)
                    {
                        notes.Add(note!);
                        index = notes.Count - 1;
                    }
                    text += $" [{index + 1}]";
                }
                sb.Append(' ').Append(text).Append(" |");
            }
            sb.Append('\n');
        }
        for (int i = 0; i < notes.Count; i++) sb.Append('\n').Append($"[{i + 1}] {notes[i]}");
        return sb.Append('\n').ToString();
    }

    /// <summary>CSV, one row per cell: attack, defence, seed, asr, ca, counts, configuration (JSON), note.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("attack,defence,seed,asr,ca,attacked_images,clean_images,target_class,configuration,note\n");
        foreach (var c in _cells)
        {
            sb.AppendJoin(',', Csv(c.Attack), Csv(c.Defence), c.Seed.ToString(CultureInfo.InvariantCulture),
                c.Metrics.AttackSuccessRate.ToString("R", CultureInfo.InvariantCulture), c.Metrics.CleanAccuracy.ToString("R", CultureInfo.InvariantCulture),
                c.Metrics.AttackedCount.ToString(CultureInfo.InvariantCulture), c.Metrics.CleanCount.ToString(CultureInfo.InvariantCulture),
                c.Metrics.TargetClass.ToString(CultureInfo.InvariantCulture), Csv(JsonSerializer.Serialize(c.Configuration)), Csv(c.Note ?? ""));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>JSON: an array of cells with metrics (overall and per class), seed, configuration and note.</summary>
    public string ToJson()
    {
        static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        var array = new JsonArray();
        foreach (var c in _cells)
        {
            array.Add(new JsonObject
            {
                ["attack"] = c.Attack,
                ["defence"] = c.Defence,
                ["seed"] = c.Seed,
                ["asr"] = Num(c.Metrics.AttackSuccessRate),
                ["ca"] = Num(c.Metrics.CleanAccuracy),
                ["target_class"] = c.Metrics.TargetClass,
                ["attacked_images"] = c.Metrics.AttackedCount,
                ["clean_images"] = c.Metrics.CleanCount,
                ["ca_per_class"] = new JsonArray(c.Metrics.CleanAccuracyPerClass.Select(Num).ToArray()),
                ["asr_per_class"] = new JsonArray(c.Metrics.AttackSuccessRatePerClass.Select(Num).ToArray()),
                ["configuration"] = new JsonObject(c.Configuration.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                ["note"] = c.Note,
            });
        }
        return new JsonObject { ["title"] = Title, ["cells"] = array }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes <c>results.md</c>, <c>results.csv</c> and <c>results.json</c> into <paramref name="directory"/>, atomically.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "results.md"), ToMarkdown());
        AtomicFile.WriteAllText(Path.Combine(directory, "results.csv"), ToCsv());
        AtomicFile.WriteAllText(Path.Combine(directory, "results.json"), ToJson());
    }

    private static string Format(List<DefenceReportCell> group)
    {
        static string MeanSd(IEnumerable<double> values)
        {
            var v = values.Select(x => 100 * x).ToArray();
            double mean = v.Average();
            if (v.Length == 1) return mean.ToString("F2", CultureInfo.InvariantCulture);
            double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
            return FormattableString.Invariant($"{mean:F2} ± {sd:F2}");
        }
        return $"{MeanSd(group.Select(c => c.Metrics.AttackSuccessRate))} ({MeanSd(group.Select(c => c.Metrics.CleanAccuracy))})";
    }

    private static string Csv(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
