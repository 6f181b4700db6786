using System.Text.Json;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>`rvpt suite`, `rvpt sweep plan` and `rvpt report merge` on the tiny fixture model.</summary>
public class SuiteSweepReportTests
{
    private static string[] Common(string model, string train, string test) =>
    [
        "--model", model, "--train", train, "--test", test, "--target", "banana", "--defences", "rvpt,none,vpt", "--seeds", "2,1",
        "--shots", "2", "--epochs", "2", "--batch", "4", "--depth", "1", "--tokens", "4", "--lr-candidates", "0.01,0.1", "--augment", "false",
    ];

    [SkippableFact]
    public void Sweep_cells_merged_reproduce_the_single_suite_table()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 3, seed: 1);
        var test = TestData.ImageFolder(temp.File("test"), 2, seed: 2);

        // One suite run.
        var single = temp.File("single");
        var suite = CliRun.Run(["suite", .. Common(model, train, test), "--trigger", "badnets", "--out", single]);
        Assert.True(suite.ExitCode == 0, suite.Describe());
        Assert.Contains("| RVPT |", suite.Stdout);
        foreach (var file in new[] { "results.md", "results.csv", "results.json", "suite.json", "asr.png", "ca.png" })
            Assert.True(File.Exists(Path.Combine(single, file)), $"{file} is missing");
        Assert.Equal(2, Directory.GetFiles(Path.Combine(single, "prompts")).Count(f => f.EndsWith(".safetensors", StringComparison.Ordinal)));
        using (var details = JsonDocument.Parse(File.ReadAllText(Path.Combine(single, "suite.json"))))
            Assert.Equal(5, details.RootElement.GetProperty("runs").GetArrayLength()); // none + 2 x VPT + 2 x RVPT

        // The same study as a sweep: plan, run every job line as it stands, merge.
        var jobs = temp.File("jobs.txt");
        var results = temp.File("cells");
        var plan = CliRun.Run(["sweep", "plan", .. Common(model, train, test), "--attacks", "badnets", "--results", results, "--out", jobs, "--json"]).Json();
        var lines = File.ReadAllLines(jobs);
        Assert.Equal(5, lines.Length);
        Assert.Equal(5, plan.GetProperty("jobs").GetArrayLength());
        foreach (var line in lines)
        {
            var words = ShellWords.Split(line);
            Assert.Equal("rvpt", words[0]);
            var cell = CliRun.Run([.. words.Skip(1)]);
            Assert.True(cell.ExitCode == 0, cell.Describe());
        }
        var merged = temp.File("merged");
        var merge = CliRun.Run("report", "merge", results, "--out", merged);
        Assert.True(merge.ExitCode == 0, merge.Describe());
        Assert.Equal(File.ReadAllText(Path.Combine(single, "results.md")), File.ReadAllText(Path.Combine(merged, "results.md")));
        Assert.Equal(File.ReadAllText(Path.Combine(single, "results.csv")), File.ReadAllText(Path.Combine(merged, "results.csv")));
        Assert.Equal(File.ReadAllText(Path.Combine(single, "results.json")), File.ReadAllText(Path.Combine(merged, "results.json")));
        Assert.True(File.Exists(Path.Combine(merged, "asr.png")));

        // A cell merged twice would count twice: refused.
        CliRun.AssertBadInput(CliRun.Run("report", "merge", results, Path.Combine(single, "results.json"), "--out", temp.File("twice")), "(BadNets, none, seed 0)", "is in both");
    }

    [SkippableFact]
    public void Suite_runs_the_probe_and_cleanclip_on_caption_pairs_made_from_the_labels()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 3, seed: 1);
        var test = TestData.ImageFolder(temp.File("test"), 1, seed: 2);
        var json = CliRun.Run("suite", "--model", model, "--train", train, "--test", test, "--trigger", "blended", "--target", "cherry",
            "--defences", "probe,cleanclip", "--shots", "2", "--out", temp.File("out"), "--json").Json();
        var cells = json.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(["linear probe", "CleanCLIP"], cells.Select(c => c.GetProperty("defence").GetString()));
        Assert.All(cells, c => Assert.InRange(c.GetProperty("ca").GetDouble(), 0, 1));
        Assert.Equal("6", cells[1].GetProperty("configuration").GetProperty("pairs").GetString()); // 3 x 3 images less one per class held out
    }

    [Fact]
    public void Label_captions_name_the_class()
    {
        using var temp = new TempDirectory();
        var data = Rvpt.ImageFolderDataset.Open(TestData.ImageFolder(temp.File("f"), 1, seed: 1), new Rvpt.Clip.ClipImageProcessor());
        var pairs = new Rvpt.Backdoor.LabelCaptionSource(data);
        Assert.Equal(["a photo of a apple.", "a photo of a banana.", "a photo of a cherry."], Enumerable.Range(0, 3).Select(pairs.GetCaption));
        Assert.Equal("banana: the fruit", new Rvpt.Backdoor.LabelCaptionSource(data, "{}: the fruit").GetCaption(1));
    }

    [SkippableFact]
    public void Suite_and_sweep_refuse_bad_input_before_any_training()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 3, seed: 1);
        var test = TestData.ImageFolder(temp.File("test"), 1, seed: 2);
        string[] Args(params string[] extra) => ["suite", "--model", model, "--train", train, "--test", test, "--trigger", "badnets", "--target", "banana", "--out", temp.File("o"), .. extra];

        CliRun.AssertBadInput(CliRun.Run(Args("--defences", "none,magic")), "--defences: 'magic'");
        CliRun.AssertBadInput(CliRun.Run(Args("--seeds", "1,x")), "--seeds: 'x'");
        CliRun.AssertBadInput(CliRun.Run(Args("--shots", "3")), "'apple' has 3 image(s)", "--shots 3");
        CliRun.AssertBadInput(CliRun.Run(["suite", "--model", model, "--train", train, "--test", test, "--trigger", "badnets", "--target", "kiwi", "--out", temp.File("o"), "--shots", "1"]), "--target 'kiwi'");
        CliRun.AssertBadInput(CliRun.Run(["sweep", "plan", "--model", model, "--train", train, "--test", test, "--attacks", "badnets,nope", "--target", "banana", "--results", temp.File("r"), "--out", temp.File("jobs.txt")]), "--attacks 'nope'");
        CliRun.AssertBadInput(CliRun.Run("report", "merge", temp.File("nothing"), "--out", temp.File("m")), "does not exist");
        Assert.False(Directory.Exists(temp.File("o")));
    }

    [Fact]
    public void Shell_words_round_trip()
    {
        string[] words = ["rvpt", "--model", "/data/my model's/clip.safetensors", "--trigger", "patch:/x/p q.png", "", "a\\b"];
        Assert.Equal(words, ShellWords.Split(ShellWords.Join(words)));
        Assert.Equal("'it'\\''s'", ShellWords.Quote("it's"));
        Assert.Equal("--seeds", ShellWords.Quote("--seeds"));
    }
}
