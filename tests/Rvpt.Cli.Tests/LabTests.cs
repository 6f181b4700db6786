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

    [Fact]
    public void Lab_plant_with_a_lighter_recipe_caches_its_own_model_with_the_recipe_recorded()
    {
        var cache = lab.Path;
        var standard = CliRun.Run("lab", "plant", "--attack", "badnets", "--quick", "--cache", cache, "--json").Json().GetProperty("cache").GetString()!;
        var light = CliRun.Run("lab", "plant", "--attack", "badnets", "--quick", "--cache", cache, "--poison-fraction", "0.05",
            "--planting-lr", "2e-4", "--planting-epochs", "3", "--planting-label-weight", "0", "--json").Json().GetProperty("cache").GetString()!;
        Assert.NotEqual(standard, light); // the default recipe's model is kept, not overwritten
        using var settings = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(light, "settings.json")));
        var planting = settings.RootElement.GetProperty("Planting");
        Assert.Equal(0.05, planting.GetProperty("PoisonFraction").GetDouble());
        var training = planting.GetProperty("Training");
        Assert.Equal(2e-4, training.GetProperty("LearningRate").GetDouble());
        Assert.Equal(3, training.GetProperty("Epochs").GetInt32());
        Assert.Equal(0, training.GetProperty("ClassPromptWeight").GetDouble());
    }
}
