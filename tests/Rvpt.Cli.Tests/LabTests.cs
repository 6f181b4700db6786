using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>`rvpt lab` with the quick settings: build, plant, export, and the exported model and folders in the other commands.</summary>
[Collection(LabCollection.Name)]
public class LabTests(LabCache lab)
{
    [Fact]
    public void Lab_build_and_plant_export_what_defend_and_evaluate_use()
    {
        using var temp = new TempDirectory();
        var cache = lab.Path;
        var build = CliRun.Run("lab", "build", "--quick", "--cache", cache, "--export", temp.File("clean/clean.safetensors"), "--json").Json();
        Assert.Equal("clean", build.GetProperty("model").GetString());
        Assert.True(File.Exists(temp.File("clean/vocab.json")));

        var export = temp.File("badnets");
        var plant = CliRun.Run("lab", "plant", "--attack", "badnets", "--quick", "--cache", cache, "--export", export, "--images", "60", "--json").Json();
        Assert.Equal("BadNets", plant.GetProperty("trigger").GetString());
        var model = Path.Combine(export, "model.safetensors");
        Assert.True(File.Exists(model));
        var target = plant.GetProperty("target").GetString()!;

        var evaluation = CliRun.Run("evaluate", "--model", model, "--test", Path.Combine(export, "test"), "--json").Json();
        Assert.InRange(evaluation.GetProperty("ca").GetDouble(), 0, 1);
        var defend = CliRun.Run("defend", "--model", model, "--train", Path.Combine(export, "train"), "--val", Path.Combine(export, "val"),
            "--out", temp.File("defended"), "--shots", "1", "--epochs", "1", "--batch", "8", "--json");
        Assert.True(defend.ExitCode == 0, defend.Describe());
        Assert.True(File.Exists(temp.File("defended/prompts.safetensors")));
        Assert.Contains(target, File.ReadAllText(temp.File("defended/summary.json")));

        CliRun.AssertBadInput(CliRun.Run("lab", "plant", "--attack", "laser", "--quick", "--cache", cache), "--attack 'laser'");
    }
}
