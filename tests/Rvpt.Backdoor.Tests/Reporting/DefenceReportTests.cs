using System.Text.Json;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Backdoor.Tests;

/// <summary>The results table in its three forms.</summary>
public sealed class DefenceReportTests
{
    private static BackdoorMetrics M(long[] triggered) =>
        BackdoorMetrics.Compute(new long[] { 0, 0, 1, 1 }, new long[] { 0, 1, 1, 1 }, triggered, targetClass: 1, classCount: 2);

    [Fact]
    public void TableHasOneCellPerAttackAndDefenceWithMeanAndSpread()
    {
        var config = new Dictionary<string, string> { ["lr"] = "0.002", ["D"] = "3" };
        var report = new DefenceReport()
            .Add(new DefenceReportCell("BadNets", "none", M(new long[] { 1, 1, 1, 1 }), 1, config))
            .Add(new DefenceReportCell("BadNets", "RVPT", M(new long[] { 0, 0, 1, 1 }), 1, config))
            .Add(new DefenceReportCell("BadNets", "RVPT", M(new long[] { 1, 0, 1, 1 }), 2, config))
            .Add(new DefenceReportCell("Blended", "none", M(new long[] { 0, 1, 1, 1 }), 1, config, Note: "backdoor below the planting gate"));
        var md = report.ToMarkdown();
        Assert.Contains("| defence | BadNets | Blended |", md);
        Assert.Contains("| none | 100.00 (75.00) | 50.00 (75.00) [1] |", md);
        Assert.Contains("| RVPT | 25.00 ± 35.36 (75.00 ± 0.00) | - |", md);
        Assert.Contains("[1] backdoor below the planting gate", md);

        var csv = report.ToCsv().Split('\n');
        Assert.Equal(6, csv.Length); // header + 4 rows + trailing newline
        Assert.StartsWith("BadNets,RVPT,2,0.5,0.75,2,4,1,", csv[3]);

        using var json = JsonDocument.Parse(report.ToJson());
        var cells = json.RootElement.GetProperty("cells");
        Assert.Equal(4, cells.GetArrayLength());
        Assert.Equal("0.002", cells[0].GetProperty("configuration").GetProperty("lr").GetString());
        Assert.Equal(JsonValueKind.Null, cells[0].GetProperty("asr_per_class")[1].ValueKind); // target class has no ASR

        using var temp = new TempDirectory();
        report.Save(temp.Path);
        foreach (var f in new[] { "results.md", "results.csv", "results.json" }) Assert.True(File.Exists(temp.File(f)), f);
    }

    [Fact]
    public void A_note_shared_by_several_cells_is_one_footnote()
    {
        var config = new Dictionary<string, string>();
        const string NotPlanted = "WaNet: NOT planted";
        var md = new DefenceReport()
            .Add(new DefenceReportCell("WaNet", "none", M(new long[] { 0, 1, 1, 1 }), 1, config, Note: NotPlanted))
            .Add(new DefenceReportCell("BadNets", "none", M(new long[] { 1, 1, 1, 1 }), 1, config, Note: "other"))
            .Add(new DefenceReportCell("WaNet", "RVPT", M(new long[] { 0, 0, 1, 1 }), 1, config, Note: NotPlanted))
            .Add(new DefenceReportCell("WaNet", "RVPT", M(new long[] { 0, 0, 1, 1 }), 2, config, Note: NotPlanted))
            .ToMarkdown();
        Assert.Contains("| none | 50.00 (75.00) [1] | 100.00 (75.00) [2] |", md);
        Assert.Contains("| RVPT | 0.00 ± 0.00 (75.00 ± 0.00) [1] | - |", md);
        Assert.Contains("[1] WaNet: NOT planted", md);
        Assert.Contains("[2] other", md);
        Assert.DoesNotContain("[3]", md);
    }
}
