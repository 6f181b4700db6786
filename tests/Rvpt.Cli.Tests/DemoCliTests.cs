using System.Text.Json;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>
/// The demo sample's command line (<see cref="Lab.DemoCli"/>): the documented options, their translation to
/// `rvpt suite` for a real model, and the up-front checks (exit code 2 before any work).
/// </summary>
public class DemoCliTests
{
    private static (int Code, string Stdout, string Stderr) Demo(params string[] args) => LabDemoTests.RunDemo(args);

    [Fact]
    public void Help_lists_every_documented_option()
    {
        var (code, stdout, _) = Demo("--help");
        Assert.Equal(0, code);
        foreach (var option in new[]
                 {
                     "--quick", "--calibrated", "--small-world", "--seeds", "--attacks", "--out", "--cache", "--device", "--threads", "--verbose", "--model", "--tokenizer", "--train",
                     "--test", "--classes", "--attack", "--target", "--shots", "--epochs", "--prompt-depth", "--prompt-tokens", "--alpha",
                 })
            Assert.Contains(option, stdout);
    }

    [Fact]
    public void Options_of_the_other_mode_are_refused_with_exit_code_2()
    {
        using var temp = new TempDirectory();
        var (code, _, stderr) = Demo("--train", temp.Path);
        Assert.Equal(2, code);
        Assert.Contains("--train applies to a real model", stderr);
        (code, _, stderr) = Demo("--quick", "--epochs", "4");
        Assert.Equal(2, code);
        Assert.Contains("--epochs applies to a real model", stderr);
        (code, _, stderr) = Demo("--model", temp.File("m.safetensors"), "--quick", "--train", temp.Path, "--test", temp.Path, "--attack", "badnets", "--target", "x");
        Assert.Equal(2, code);
        Assert.Contains("--quick applies to the synthetic world", stderr);
        (code, _, stderr) = Demo("--model", temp.File("m.safetensors"), "--calibrated", "--train", temp.Path, "--test", temp.Path, "--attack", "badnets", "--target", "x");
        Assert.Equal(2, code);
        Assert.Contains("--calibrated applies to the synthetic world", stderr);
        (code, _, stderr) = Demo("--model", temp.File("m.safetensors"), "--small-world", "--train", temp.Path, "--test", temp.Path, "--attack", "badnets", "--target", "x");
        Assert.Equal(2, code);
        Assert.Contains("--small-world applies to the synthetic world", stderr);
        (code, _, stderr) = Demo("--quick", "--calibrated", "--cache", temp.Path, "--out", temp.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("--quick, --calibrated and --small-world are presets; pass at most one", stderr);
        (code, _, stderr) = Demo("--small-world", "--calibrated", "--cache", temp.Path, "--out", temp.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("pass at most one", stderr);
        Assert.False(Directory.Exists(temp.File("out")));
        (code, _, stderr) = Demo("--model", temp.File("m.safetensors"), "--test", temp.Path, "--attack", "badnets", "--target", "x");
        Assert.Equal(2, code);
        Assert.Contains("--train is required with --model", stderr);
        (code, _, stderr) = Demo("--model", temp.File("m.safetensors"), "--train", temp.Path, "--test", temp.Path, "--attack", "badnets", "--target", "x");
        Assert.Equal(2, code);
        Assert.Contains("m.safetensors' does not exist", stderr);
    }

    [SkippableFact]
    public void A_real_model_runs_rvpt_suite_with_the_demo_flags_translated()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 4, seed: 21);
        var test = TestData.ImageFolder(temp.File("test"), 2, seed: 22);
        var output = temp.File("out");

        var (code, stdout, stderr) = Demo("--model", model, "--train", train, "--test", test, "--attack", "badnets", "--target", "banana",
            "--shots", "2", "--epochs", "1", "--prompt-depth", "1", "--prompt-tokens", "4", "--alpha", "1.5", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("running `rvpt suite", stderr);
        Assert.Contains("| RVPT |", stdout);
        using (var suite = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "suite.json"))))
        {
            var command = suite.RootElement.GetProperty("command").GetString()!;
            foreach (var part in new[] { "rvpt suite", "--trigger badnets", "--target banana", "--shots 2", "--epochs 1", "--depth 1", "--tokens 4", "--alpha 1.5", "--resistivity-images 256" })
                Assert.Contains(part, command);
            Assert.Equal(5, suite.RootElement.GetProperty("runs").GetArrayLength()); // none, VPT, linear probe, CleanCLIP, RVPT
        }
        foreach (var file in new[] { "results.md", "results.csv", "results.json", "asr.png", "ca.png", "resistivity-badnets.png", "resistivity-badnets.csv" })
            Assert.True(File.Exists(Path.Combine(output, file)), $"{file} is missing");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(output, "prompts"), "*.safetensors"));
    }

    [SkippableFact]
    public void Too_few_images_for_the_shots_fail_up_front_naming_the_folder_and_the_shortfall()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var train = TestData.ImageFolder(temp.File("train"), 4, seed: 23);
        var test = TestData.ImageFolder(temp.File("test"), 1, seed: 24);
        var output = temp.File("out");

        // The documented default, 16 shots, on 4 images per class: a fifth (1) held out for validation leaves 3.
        var (code, _, stderr) = Demo("--model", model, "--train", train, "--test", test, "--attack", "badnets", "--target", "banana", "--out", output);
        Assert.True(code == 2, stderr);
        Assert.Contains($"--train '{train}'", stderr);
        Assert.Contains("'apple' has 4 image(s)", stderr);
        Assert.Contains("leaves 3 for training, but 16 are needed", stderr);
        Assert.False(Directory.Exists(output), "nothing may be written before the inputs are checked");
    }
}
