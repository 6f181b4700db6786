using System.Text.Json;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>End-to-end runs of `rvpt zero-shot`, `rvpt evaluate` and `rvpt convert` on the tiny fixture model.</summary>
public class ZeroShotEvaluateConvertTests
{
    [SkippableFact]
    public void Zero_shot_labels_every_image_in_json_csv_and_table()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var images = TestData.ImageFolder(temp.File("images"), 2, seed: 1);
        var classes = TestData.ClassesFile(temp.File("classes.txt"));

        var json = CliRun.Run("zero-shot", "--model", model, "--images", images, "--classes", classes, "--top", "2", "--json").Json();
        var predictions = json.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(6, predictions.Count);
        foreach (var p in predictions)
        {
            var top = p.GetProperty("top").EnumerateArray().ToList();
            Assert.Equal(2, top.Count);
            Assert.Contains(top[0].GetProperty("class").GetString(), TestData.Classes);
            Assert.True(top[0].GetProperty("probability").GetDouble() >= top[1].GetProperty("probability").GetDouble());
        }

        var csv = CliRun.Run("zero-shot", "--model", model, "--images", Path.Combine(images, "apple", "img00.png"), "--classes", classes, "--format", "csv");
        Assert.True(csv.ExitCode == 0, csv.Describe());
        Assert.Equal(1 + 3, csv.Stdout.Trim().Split('\n').Length); // header + top 5 capped at 3 classes
        var table = CliRun.Run("zero-shot", "--model", model, "--images", images, "--classes", classes, "--templates", "imagenet");
        Assert.True(table.ExitCode == 0, table.Describe());
        Assert.Contains("img00.png", table.Stdout);
    }

    [SkippableFact]
    public void Evaluate_reports_ca_and_asr_per_class_for_named_and_file_triggers()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var test = TestData.ImageFolder(temp.File("test"), 3, seed: 2);
        var patch = TestData.Png(temp.File("patch.png"), 6, 255, 255, 0);
        var blend = TestData.Png(temp.File("blend.png"), 20, 0, 255, 255);

        foreach (var (trigger, placement) in new[] { ("badnets", "squash"), ("wanet", "squash"), ("sig", "crop"), ("trojvqa", "squash"), ("blended", "crop"),
                     ($"patch:{patch}", "squash"), ($"blend:{blend}", "crop") })
        {
            var json = CliRun.Run("evaluate", "--model", model, "--test", test, "--trigger", trigger, "--target", "banana", "--placement", placement, "--json").Json();
            Assert.InRange(json.GetProperty("ca").GetDouble(), 0, 1);
            Assert.InRange(json.GetProperty("asr").GetDouble(), 0, 1);
            Assert.Equal(9, json.GetProperty("clean_images").GetInt32());
            Assert.Equal(6, json.GetProperty("attacked_images").GetInt32());
            var perClass = json.GetProperty("per_class").EnumerateArray().ToList();
            Assert.Equal(TestData.Classes, perClass.Select(c => c.GetProperty("class").GetString()));
            Assert.Equal(JsonValueKind.Null, perClass[1].GetProperty("asr").ValueKind); // the target class has no ASR
        }

        var output = temp.File("eval");
        var markdown = CliRun.Run("evaluate", "--model", model, "--test", test, "--trigger", "badnets", "--target", "banana", "--out", output);
        Assert.True(markdown.ExitCode == 0, markdown.Describe());
        Assert.Contains("| cherry |", markdown.Stdout);
        Assert.True(File.Exists(Path.Combine(output, "results.json")));
        var csv = CliRun.Run("evaluate", "--model", model, "--test", test, "--format", "csv");
        Assert.True(csv.ExitCode == 0, csv.Describe());
        Assert.StartsWith("class,ca,asr", csv.Stdout);
    }

    [SkippableFact]
    public void Bad_input_exits_with_2_and_names_the_input()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var test = TestData.ImageFolder(temp.File("test"), 2, seed: 3);
        var classes = TestData.ClassesFile(temp.File("classes.txt"));

        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", temp.File("nope.safetensors"), "--test", test), "--model", "nope.safetensors", "does not exist");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--test", temp.File("missing")), "--test", "missing");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--test", test, "--trigger", "lasers", "--target", "apple"), "--trigger 'lasers'", "badnets");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--test", test, "--trigger", "badnets", "--target", "durian"), "--target 'durian'", "apple, banana, cherry");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--test", test, "--trigger", "badnets"), "--target is required");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--test", test, "--trigger", $"patch:{temp.File("none.png")}", "--target", "apple"), "none.png");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--test", test, "--placement", "sideways"), "--placement 'sideways'");
        CliRun.AssertBadInput(CliRun.Run("zero-shot", "--model", model, "--images", test), "--classes is required");
        CliRun.AssertBadInput(CliRun.Run("zero-shot", "--model", model, "--images", test, "--classes", classes, "--device", "tpu"), "--device 'tpu'");
        var notAModel = temp.File("model/notes.safetensors");
        File.WriteAllText(notAModel, "this is not a checkpoint");
        CliRun.AssertBadInput(CliRun.Run("zero-shot", "--model", notAModel, "--images", test, "--classes", classes), "notes.safetensors");
        var mismatch = TestData.ImageFolder(temp.File("other"), 1, seed: 4, "apple", "banana");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--test", mismatch, "--classes", classes), "--test", "classes.txt");
    }

    [SkippableFact]
    public void Convert_round_trips_between_layouts_and_reads_torchscript_only_on_request()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var images = TestData.ImageFolder(temp.File("images"), 1, seed: 5);
        var classes = TestData.ClassesFile(temp.File("classes.txt"));

        var hf = temp.File("hf");
        Assert.Equal(0, CliRun.Run("convert", model, "--out", hf, "--layout", "hf").ExitCode);
        Assert.True(File.Exists(Path.Combine(hf, "config.json")));
        var back = temp.File("back.safetensors");
        var json = CliRun.Run("convert", hf, "--out", back, "--json").Json();
        Assert.Equal("openai", json.GetProperty("layout").GetString());
        var hfFile = temp.File("hf-one.safetensors");
        Assert.Equal(0, CliRun.Run("convert", Fixtures.ClipTinyFile("tiny_clip_hf.safetensors"), "--out", hfFile, "--layout", "hf", "--dtype", "bfloat16").ExitCode);

        // The same predictions from the original, the HF folder and the round trip.
        string Predict(string m) => CliRun.Run("zero-shot", "--model", m, "--images", images, "--classes", classes, "--format", "csv").Stdout;
        var original = Predict(model);
        Assert.Equal(original, Predict(hf));
        Assert.Equal(original, Predict(back));
        Assert.Equal(original, Predict(Fixtures.ClipTinyFile("tiny_clip_hf.safetensors"))); // the HF-layout fixture (config.json beside it)

        // OpenCLIP folder (config beside the weights) -> OpenAI safetensors.
        var openclip = Fixtures.CheckpointFixture("openclip-gelu");
        Assert.Equal(0, CliRun.Run("convert", openclip, "--out", temp.File("openclip.safetensors")).ExitCode);

        // TorchScript is a program: refused unless asked for.
        var script = Fixtures.CheckpointFixture(Path.Combine("openai-torchscript", "tiny-vit.pt"));
        CliRun.AssertBadInput(CliRun.Run("convert", script, "--out", temp.File("ts.safetensors")), "tiny-vit.pt", "TorchScript");
        Assert.Equal(0, CliRun.Run("convert", script, "--out", temp.File("ts.safetensors"), "--allow-torchscript").ExitCode);
        CliRun.AssertBadInput(CliRun.Run("convert", script, "--out", temp.File("x.bin")), "*.safetensors");
    }
}
