using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rvpt.Backdoor;

/// <summary>
/// Reads the JSON that <see cref="DefenceReport.ToJson"/> writes back into a report, and merges the cells of several
/// reports (e.g. one per (attack, defence, seed) cell of a sweep run on many machines) into one table.
/// </summary>
public static class DefenceReportJson
{
    /// <summary>The report names of the defences in <see cref="DefenceKind"/> order, the order merged tables use.</summary>
    private static readonly string[] DefenceOrder = Enum.GetValues<DefenceKind>().Select(DefenceSuite.DisplayName).ToArray();

    /// <summary>Reads a report file written by <see cref="DefenceReport.Save"/> (<c>results.json</c>) or <see cref="DefenceReport.ToJson"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not such a report; the message names the file and the field.</exception>
    public static DefenceReport Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Report file '{path}' does not exist.", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses a report's JSON; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">The text is not such a report; the message names the field.</exception>
    public static DefenceReport Parse(string json, string source = "report")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: not a JSON object (expected a report with 'title' and 'cells').");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
        var cells = root["cells"] as JsonArray ?? throw new InvalidDataException($"{source}: no 'cells' array (expected a report written by DefenceReport.ToJson).");
        var report = new DefenceReport { Title = (string?)root["title"] ?? new DefenceReport().Title };
        for (int i = 0; i < cells.Count; i++)
            report.Add(ReadCell(cells[i] as JsonObject ?? throw new InvalidDataException($"{source}: cells[{i}] is not an object."), $"{source}: cells[{i}]"));
        return report;
    }

    /// <summary>
    /// Merges the cells of <paramref name="reports"/> into one report: attacks in order of first appearance, defences
    /// in <see cref="DefenceKind"/> order (other names after them, in order of appearance), seeds ascending, so the
    /// merged table of a sweep's cells equals the table of one suite run over the same attacks, defences and seeds.
    /// </summary>
    /// <param name="reports">The reports with the names used in messages (file paths).</param>
    /// <param name="title">The title; null for the first report's.</param>
    /// <exception cref="InvalidDataException">Two reports hold the same (attack, defence, seed) cell; the message names both.</exception>
    public static DefenceReport Merge(IEnumerable<(string Source, DefenceReport Report)> reports, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var all = new List<(string Source, DefenceReportCell Cell)>();
        string? firstTitle = null;
        foreach (var (source, report) in reports)
        {
            firstTitle ??= report.Title;
            all.AddRange(report.Cells.Select(c => (source, c)));
        }
        var seen = new Dictionary<(string, string, long), string>();
        foreach (var (source, cell) in all)
        {
            if (seen.TryGetValue((cell.Attack, cell.Defence, cell.Seed), out var other))
                throw new InvalidDataException($"The cell ({cell.Attack}, {cell.Defence}, seed {cell.Seed}) is in both {other} and {source}; merge each cell once.");
            seen[(cell.Attack, cell.Defence, cell.Seed)] = source;
        }
        var attacks = all.Select(a => a.Cell.Attack).Distinct().ToList();
        var extraDefences = all.Select(a => a.Cell.Defence).Where(d => Array.IndexOf(DefenceOrder, d) < 0).Distinct().ToList();
        int DefenceRank(string d) => Array.IndexOf(DefenceOrder, d) is var i and >= 0 ? i : DefenceOrder.Length + extraDefences.IndexOf(d);
        var merged = new DefenceReport { Title = title ?? firstTitle ?? new DefenceReport().Title };
        foreach (var (_, cell) in all.OrderBy(a => DefenceRank(a.Cell.Defence)).ThenBy(a => attacks.IndexOf(a.Cell.Attack)).ThenBy(a => a.Cell.Seed))
            merged.Add(cell);
        return merged;
    }

    private static DefenceReportCell ReadCell(JsonObject o, string where)
    {
        string Text(string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new InvalidDataException($"{where}: '{key}' must be a string.");
        int Int(string key) => o[key] is JsonValue v && v.TryGetValue<int>(out var n) ? n : throw new InvalidDataException($"{where}: '{key}' must be an integer.");
        double Num(JsonNode? node, string key) => node switch
        {
            null => double.NaN,
            JsonValue v when v.TryGetValue<double>(out var d) => d,
            _ => throw new InvalidDataException($"{where}: '{key}' must be a number or null."),
        };
        double[] Array(string key) => o[key] is JsonArray a
            ? a.Select((n, i) => Num(n, $"{key}[{i}]")).ToArray()
            : throw new InvalidDataException($"{where}: '{key}' must be an array.");
        var configuration = new Dictionary<string, string>();
        if (o["configuration"] is JsonObject config)
            foreach (var (key, value) in config)
                configuration[key] = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
        long seed = o["seed"] is JsonValue sv && sv.TryGetValue<long>(out var l) ? l : throw new InvalidDataException($"{where}: 'seed' must be an integer.");
        var metrics = new BackdoorMetrics
        {
            CleanAccuracy = Num(o["ca"], "ca"),
            AttackSuccessRate = Num(o["asr"], "asr"),
            TargetClass = Int("target_class"),
            CleanCount = Int("clean_images"),
            AttackedCount = Int("attacked_images"),
            CleanAccuracyPerClass = Array("ca_per_class"),
            AttackSuccessRatePerClass = Array("asr_per_class"),
        };
        var note = o["note"] is JsonValue nv && nv.TryGetValue<string>(out var n) ? n : null;
        return new DefenceReportCell(Text("attack"), Text("defence"), metrics, seed, configuration, note);
    }
}
