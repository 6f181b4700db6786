using System.Text.Json;
using Rvpt.Cli.Lab;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>
/// `rvpt lab demo` with the quick settings, and the demo sample's command line (<see cref="DemoCli"/>, what
/// samples/Rvpt.Demo runs) reproducing it byte for byte from the same model cache.
/// </summary>
[Collection(LabCollection.Name)]
public class LabDemoTests(LabCache lab)
{
    private static readonly string[] SameFiles =
        ["results.md", "results.csv", "results.json", "selection.json", "asr.png", "ca.png", "resistivity-badnets.png", "resistivity-wanet.png",
         "resistivity-badnets.csv", "resistivity-wanet.csv"];

    [Fact]
    public void Lab_demo_writes_the_table_and_the_demo_command_line_reproduces_it()
    {
        using var temp = new TempDirectory();
        var tool = temp.File("tool");
        var json = CliRun.Run("lab", "demo", "--quick", "--attacks", "badnets,wanet", "--cache", lab.Path, "--out", tool, "--json").Json();
        Assert.Equal(Path.GetFullPath(tool), json.GetProperty("output").GetString());
        var gates = json.GetProperty("gates").EnumerateArray().ToList();
        Assert.Equal(["BadNets", "WaNet"], gates.Select(g => g.GetProperty("attack").GetString()));
        Assert.All(gates, g => Assert.Contains("vs gate 80%", g.GetProperty("text").GetString()));
        var cells = json.GetProperty("results").GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(10, cells.Count); // 2 attacks x (none, VPT, linear probe, CleanCLIP, RVPT), one seed
        Assert.All(cells, c => Assert.Equal(96, c.GetProperty("clean_images").GetInt32()));
        foreach (var file in SameFiles.Append("report.md"))
            Assert.True(File.Exists(Path.Combine(tool, file)), $"{file} is missing");
        var report = File.ReadAllText(Path.Combine(tool, "report.md"));
        Assert.Contains("Preset: quick", report);
        Assert.Contains("## Planting gates", report);

        // The demo's command line (samples/Rvpt.Demo) runs the same code: every results file is the same, byte for byte.
        var demo = temp.File("demo");
        var (code, stdout, stderr) = RunDemo("--quick", "--attacks", "badnets,wanet", "--cache", lab.Path, "--out", demo);
        Assert.True(code == 0, stderr);
        Assert.Contains("ASR% (CA%)", stdout);
        Assert.Contains("BadNets: backdoor", stdout);
        Assert.Contains("Loading the clean CLIP", stderr); // the cache of the first run was used
        foreach (var file in SameFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(tool, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(demo, file))), $"{file} differs");

        // Prompt geometry checked against the lab's model (4 vision blocks): no block left to prompt.
        CliRun.AssertBadInput(CliRun.Run("lab", "demo", "--quick", "--attacks", "badnets", "--cache", lab.Path, "--out", temp.File("x"), "--depth", "4"),
            "--depth 4", "4-block");
    }

    [Fact]
    public void Lab_demo_runs_the_chosen_defences_and_always_the_undefended_row()
    {
        using var temp = new TempDirectory();
        var json = CliRun.Run("lab", "demo", "--quick", "--attacks", "badnets", "--defences", "finetune-fr,finetune", "--cache", lab.Path,
            "--out", temp.File("out"), "--json").Json();
        var defences = json.GetProperty("results").GetProperty("cells").EnumerateArray().Select(c => c.GetProperty("defence").GetString()).ToList();
        // "none" is added (the planting gate reads it); the report keeps DefenceKind's order.
        Assert.Equal(["none", "fine-tuning", "fine-tuning + FR"], defences);
        Assert.Single(json.GetProperty("gates").EnumerateArray());
    }

    [Fact]
    public void Lab_demo_takes_the_shots_and_grows_the_defenders_pool_with_them()
    {
        using var temp = new TempDirectory();
        // The quick preset draws 2 shots from 96 images; 3 shots draw from 144 (the pool grows in proportion).
        CliRun.Run("lab", "demo", "--quick", "--attacks", "badnets", "--defences", "probe", "--shots", "3", "--cache", lab.Path,
            "--out", temp.File("tool"), "--json").Json();
        Assert.Contains("shots: 3 per class from a pool of 144", File.ReadAllText(temp.File("tool/report.md")));
        // The demo's command line forwards --shots to the synthetic world too.
        var (code, _, stderr) = RunDemo("--quick", "--attacks", "badnets", "--defences", "probe", "--shots", "3", "--cache", lab.Path, "--out", temp.File("demo"));
        Assert.True(code == 0, stderr);
        Assert.Contains("shots: 3 per class from a pool of 144", File.ReadAllText(temp.File("demo/report.md")));
    }

    [Theory]
    [InlineData(16, 768)]
    [InlineData(64, 3_072)] // 4 x 64 shots x 12 classes, as the small world's 4 x 16 x 12
    [InlineData(4, 768)] // never shrinks: fewer shots come from the small world's pool
    public void More_shots_grow_the_defenders_pool_in_proportion(int shots, int pool)
    {
        var settings = LabDemoSettings.SmallWorld.WithShots(shots);
        Assert.Equal(shots, settings.Suite.Shots);
        Assert.Equal(pool, settings.PoolImages);
    }

    [Fact]
    public void Lab_demo_refuses_bad_options_before_building_anything()
    {
        using var temp = new TempDirectory();
        var cache = temp.File("cache");
        string[] Demo(params string[] extra) => ["lab", "demo", "--quick", "--cache", cache, "--out", temp.File("out"), .. extra];
        CliRun.AssertBadInput(CliRun.Run(Demo("--attacks", "badnets,laser")), "--attacks", "'laser'", "issba");
        CliRun.AssertBadInput(CliRun.Run(Demo("--seeds", "1,x")), "--seeds", "'x'");
        CliRun.AssertBadInput(CliRun.Run(Demo("--alpha", "-1")), "--alpha");
        CliRun.AssertBadInput(CliRun.Run(Demo("--defences", "rvpt,magic")), "--defences", "'magic'", "finetune-fr");
        CliRun.AssertBadInput(CliRun.Run(Demo("--tokens", "0")), "--tokens");
        CliRun.AssertBadInput(CliRun.Run(Demo("--shots", "0")), "--shots");
        CliRun.AssertBadInput(CliRun.Run(Demo("--depth", "-1")), "--depth");
        CliRun.AssertBadInput(CliRun.Run(Demo("--device", "tpu")), "--device 'tpu'");
        CliRun.AssertBadInput(CliRun.Run(Demo("--poison-fraction", "1")), "--poison-fraction", "(0, 1)");
        CliRun.AssertBadInput(CliRun.Run(Demo("--planting-lr", "0")), "--planting-lr");
        CliRun.AssertBadInput(CliRun.Run(Demo("--planting-epochs", "0")), "--planting-epochs");
        CliRun.AssertBadInput(CliRun.Run(Demo("--planting-label-weight", "-1")), "--planting-label-weight");
        Assert.False(Directory.Exists(cache), "nothing may be built before the options are checked");
        Assert.False(Directory.Exists(temp.File("out")));
    }

    internal static (int Code, string Stdout, string Stderr) RunDemo(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = DemoCli.RunAsync(args, stdout, stderr, CancellationToken.None).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }
}
