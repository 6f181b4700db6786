using System.Text.Json;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>`rvpt defend` end to end: training, the files it writes, the saved prompts in evaluate and zero-shot, resume and bad input.</summary>
public class DefendTests
{
    private static string[] Defend(string model, string train, string output, params string[] extra) =>
        ["defend", "--model", model, "--train", train, "--out", output, "--shots", "2", "--batch", "4", "--depth", "1", "--tokens", "4", .. extra];

    [SkippableFact]
    public void Defend_then_evaluate_and_zero_shot_with_the_saved_prompts()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 4, seed: 1);
        var test = TestData.ImageFolder(temp.File("test"), 2, seed: 2);
        var output = temp.File("defended");

        var summary = CliRun.Run([.. Defend(model, train, output, "--epochs", "3", "--val-fraction", "0.25", "--json")]).Json();
        Assert.Equal(3, summary.GetProperty("epochs_completed").GetInt32());
        Assert.Equal(3, summary.GetProperty("validation_accuracy").GetArrayLength());
        Assert.Equal(TestData.Classes, summary.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        var prompts = Path.Combine(output, "prompts.safetensors");
        Assert.True(File.Exists(prompts));
        Assert.True(File.Exists(prompts + ".json"), "the adapter file");
        Assert.True(File.Exists(Path.Combine(output, "summary.json")));
        var log = File.ReadAllLines(Path.Combine(output, "training-log.jsonl"));
        Assert.Equal(3, log.Length);
        using (var first = JsonDocument.Parse(log[0]))
        {
            Assert.Equal(1, first.RootElement.GetProperty("epoch").GetInt32());
            Assert.InRange(first.RootElement.GetProperty("validation_accuracy").GetDouble(), 0, 1);
            Assert.True(double.IsFinite(first.RootElement.GetProperty("loss").GetDouble()));
        }

        // Evaluate with the prompts (defence "RVPT"); the numbers equal the library's own measurement.
        var evaluation = CliRun.Run("evaluate", "--model", model, "--prompts", prompts, "--test", test, "--trigger", "badnets", "--target", "apple", "--json").Json();
        Assert.Equal("RVPT", evaluation.GetProperty("defence").GetString());
        using (var clip = ClipModel.FromPretrained(model))
        using (var injector = DeepPromptInjector.Load(prompts, clip))
        {
            var data = ImageFolderDataset.Open(test, clip.ImageProcessor);
            Assert.Equal(PromptedAccuracy.Evaluate(injector, data), evaluation.GetProperty("ca").GetDouble(), 12);
        }

        // Zero-shot with the prompts: the class names come from the prompt file.
        var zeroShot = CliRun.Run("zero-shot", "--model", model, "--prompts", prompts, "--images", test, "--top", "1", "--json").Json();
        Assert.Equal(6, zeroShot.GetProperty("predictions").GetArrayLength());
        Assert.Equal(prompts, zeroShot.GetProperty("prompts").GetString());

        // The prompts refuse a test folder with other classes, and another model.
        var other = TestData.ImageFolder(temp.File("other"), 1, seed: 3, "apple", "kiwi", "cherry");
        CliRun.AssertBadInput(CliRun.Run("evaluate", "--model", model, "--prompts", prompts, "--test", other), "--test", "kiwi");
        var otherModel = temp.File("other-model.safetensors");
        Assert.Equal(0, CliRun.Run("convert", Fixtures.CheckpointFixture("openclip-gelu"), "--out", otherModel).ExitCode);
        CliRun.AssertBadInput(CliRun.Run("zero-shot", "--model", otherModel, "--prompts", prompts, "--images", test, "--tokenizer", Path.GetDirectoryName(model)!), "--");
    }

    [SkippableFact]
    public void Ctrl_c_saves_the_state_and_resume_ends_where_an_uninterrupted_run_ends()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 3, seed: 4);
        var val = TestData.ImageFolder(temp.File("val"), 1, seed: 5);

        var straight = temp.File("straight");
        Assert.Equal(0, CliRun.Run([.. Defend(model, train, straight, "--epochs", "30", "--val", val, "--optimizer", "adamw")]).ExitCode);

        var interrupted = temp.File("interrupted");
        using var cts = new CancellationTokenSource();
        var log = Path.Combine(interrupted, "training-log.jsonl");
        var watcher = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                try
                {
                    if (File.Exists(log) && File.ReadAllLines(log).Length >= 1) cts.Cancel();
                }
                catch (IOException) { }
                await Task.Delay(2);
            }
        });
        var cancelled = CliRun.Run(cts.Token, [.. Defend(model, train, interrupted, "--epochs", "30", "--val", val, "--optimizer", "adamw")]);
        watcher.Wait();
        Assert.True(cancelled.ExitCode == 130, cancelled.Describe());
        Assert.Contains("--resume", cancelled.Stderr);
        Assert.True(File.Exists(Path.Combine(interrupted, "checkpoint", "training-state.safetensors")));
        Assert.False(File.Exists(Path.Combine(interrupted, "prompts.safetensors")));

        // Without --resume the saved state is not overwritten; with other settings it is refused, naming the difference.
        CliRun.AssertBadInput(CliRun.Run([.. Defend(model, train, interrupted, "--epochs", "30", "--val", val, "--optimizer", "adamw")]), "--resume");
        CliRun.AssertBadInput(CliRun.Run([.. Defend(model, train, interrupted, "--epochs", "30", "--val", val, "--optimizer", "adamw", "--lr", "0.01", "--resume")]), "learning_rate");

        var resumed = CliRun.Run([.. Defend(model, train, interrupted, "--epochs", "30", "--val", val, "--optimizer", "adamw", "--resume", "--json")]);
        var summary = resumed.Json();
        Assert.True(summary.GetProperty("resumed_from_epoch").GetInt32() >= 1);
        var a = Rvpt.Clip.SafetensorsFile.Load(Path.Combine(straight, "prompts.safetensors"), null, out _)["prompts"];
        var b = Rvpt.Clip.SafetensorsFile.Load(Path.Combine(interrupted, "prompts.safetensors"), null, out _)["prompts"];
        Assert.True(a.equal(b).all().item<bool>(), "resumed prompts differ from the uninterrupted run's");
        Assert.Equal(30, File.ReadAllLines(log).Length - CountRepeated(log));
    }

    [SkippableFact]
    public void Fast_blocks_train_the_same_prompts_up_to_rounding_and_say_so()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 4, seed: 1);
        var full = CliRun.Run([.. Defend(model, train, temp.File("full"), "--epochs", "2", "--val-fraction", "0.25", "--json")]).Json();
        var fast = CliRun.Run([.. Defend(model, train, temp.File("fast"), "--epochs", "2", "--val-fraction", "0.25", "--fast-blocks", "--json")]).Json();
        Assert.False(full.GetProperty("fast_blocks").GetBoolean());
        Assert.True(fast.GetProperty("fast_blocks").GetBoolean());
        using var a = Rvpt.Clip.SafetensorsFile.Load(Path.Combine(temp.File("full"), "prompts.safetensors"), null, out _)["prompts"];
        using var b = Rvpt.Clip.SafetensorsFile.Load(Path.Combine(temp.File("fast"), "prompts.safetensors"), null, out _)["prompts"];
        Assert.True(TensorAssert.RelativeError(b, a) < 1e-4, $"fast-block prompts differ from the full blocks' by {TensorAssert.RelativeError(b, a):E2}");
        Assert.Equal(full.GetProperty("validation_accuracy").GetArrayLength(), fast.GetProperty("validation_accuracy").GetArrayLength());
    }

    /// <summary>Epoch lines written twice (the epoch in progress at Ctrl+C is finished again after the resume): none, since a line is written only after its epoch.</summary>
    private static int CountRepeated(string log) =>
        File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("epoch").GetInt32()).GroupBy(e => e).Sum(g => g.Count() - 1);

    [SkippableFact]
    public void Too_few_images_for_the_shots_after_the_split_fail_before_training()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 5, seed: 6);
        var output = temp.File("out");

        // 5 images per class, a fifth held out: 4 left, 5 shots asked for.
        var result = CliRun.Run("defend", "--model", model, "--train", train, "--out", output, "--shots", "5");
        CliRun.AssertBadInput(result, "--shots 5", "'apple' has 5 image(s)", "leaves 4 for training");
        Assert.False(Directory.Exists(Path.Combine(output, "checkpoint")), "nothing may be written before the inputs are checked");
        var val = TestData.ImageFolder(temp.File("val"), 1, seed: 7, "apple", "banana");
        CliRun.AssertBadInput(CliRun.Run("defend", "--model", model, "--train", train, "--val", val, "--out", output), "--val", "cherry");
        CliRun.AssertBadInput(CliRun.Run("defend", "--model", model, "--train", train, "--out", output, "--shots", "6", "--val", temp.File("train")), "'apple' has 5 image(s)", "--shots 6");
        CliRun.AssertBadInput(CliRun.Run("defend", "--model", model, "--train", train, "--out", output, "--shots", "2", "--depth", "3"), "--depth 3", "3 vision blocks");
        CliRun.AssertBadInput(CliRun.Run("defend", "--model", model, "--train", train, "--out", output, "--optimizer", "lion"), "--optimizer 'lion'");
        CliRun.AssertBadInput(CliRun.Run("defend", "--model", model, "--train", train, "--out", output, "--val-fraction", "1.5"), "--val-fraction");
        CliRun.AssertBadInput(CliRun.Run("defend", "--model", model, "--train", train, "--out", output, "--cache-mib", "-1"), "--cache-mib must be >= 0");
    }
}
