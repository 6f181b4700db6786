using System.Text.Json;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Demo.Tests;

/// <summary>
/// Runs the README's main command, the thin caller <c>samples/Rvpt.Demo</c>, through its entry point with the quick
/// preset. The tool's own tests (tests/Rvpt.Cli.Tests, <c>LabDemoTests</c>) check that it reproduces
/// <c>rvpt lab demo</c> byte for byte and how its options are translated.
/// </summary>
public class QuickDemoTests
{
    private static int RunDemo(params string[] args)
    {
        // The sample's own entry point (Program.cs), loaded from the referenced project's output.
        var entry = System.Reflection.Assembly.Load("Rvpt.Demo").EntryPoint ?? throw new InvalidOperationException("Rvpt.Demo has no entry point.");
        var result = entry.Invoke(null, [args]);
        return result switch
        {
            int code => code,
            Task<int> task => task.GetAwaiter().GetResult(),
            _ => throw new InvalidOperationException($"Unexpected entry point result {result}."),
        };
    }

    [Fact]
    public void Quick_preset_computes_every_cell_and_writes_every_file()
    {
        using var temp = new TempDirectory();
        var output = temp.File("out");
        Assert.Equal(0, RunDemo("--quick", "--cache", temp.File("cache"), "--out", output));

        foreach (var file in new[] { "report.md", "results.md", "results.csv", "results.json", "selection.json", "asr.png", "ca.png",
                     "resistivity-badnets.png", "resistivity-blended.png", "resistivity-wanet.png", "resistivity-badclip.png",
                     "resistivity-badnets.csv", "resistivity-blended.csv", "resistivity-wanet.csv", "resistivity-badclip.csv" })
        {
            var path = Path.Combine(output, file);
            Assert.True(File.Exists(path), $"{file} is missing");
            Assert.True(new FileInfo(path).Length > 100, $"{file} is nearly empty");
        }
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json")));
        var cells = json.RootElement.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(20, cells.Count);
        string[] attacks = ["BadNets", "Blended", "WaNet", "BadCLIP"];
        string[] defences = ["none", "VPT", "linear probe", "CleanCLIP", "RVPT"];
        foreach (var a in attacks)
        foreach (var d in defences)
        {
            var cell = Assert.Single(cells, c => c.GetProperty("attack").GetString() == a && c.GetProperty("defence").GetString() == d);
            Assert.Equal(JsonValueKind.Number, cell.GetProperty("asr").ValueKind);
            Assert.Equal(JsonValueKind.Number, cell.GetProperty("ca").ValueKind);
            Assert.InRange(cell.GetProperty("asr").GetDouble(), 0, 1);
            Assert.InRange(cell.GetProperty("ca").GetDouble(), 0, 1);
            Assert.Equal(96, cell.GetProperty("clean_images").GetInt32()); // the quick preset's test images
            Assert.True(cell.GetProperty("attacked_images").GetInt32() > 0);
        }
        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("Planting gates", report);
        Assert.Contains("Hyper-parameter selection", report);
        Assert.Contains("Preset: quick", report);
        Assert.DoesNotContain("NaN", report);
    }

    [Fact]
    public void Wrong_inputs_fail_with_exit_code_2_before_any_work()
    {
        using var temp = new TempDirectory();
        Assert.Equal(2, RunDemo("--model", temp.File("missing.safetensors"), "--train", temp.Path, "--test", temp.Path, "--attack", "badnets", "--target", "x", "--out", temp.File("out")));
        Assert.Equal(2, RunDemo("--train", temp.Path));
        Assert.Equal(2, RunDemo("--quick", "--attacks", "nonsense", "--cache", temp.File("cache"), "--out", temp.File("out")));
        Assert.Equal(2, RunDemo("--quick", "--seeds", "one", "--cache", temp.File("cache"), "--out", temp.File("out")));
        Assert.False(Directory.Exists(temp.File("cache")), "nothing may be built before the inputs are checked");
        Assert.False(Directory.Exists(temp.File("out")));
    }
}
