using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Cli.Lab;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>The demo's presets: the calibrated world is the one docs/results.md measured, setting for setting.</summary>
public class LabDemoSettingsTests
{
    [Fact]
    public void The_calibrated_preset_is_the_world_that_passed_the_gates()
    {
        var c = LabDemoSettings.Calibrated;
        Assert.Equal("calibrated", c.Preset);
        // The clean model (width 192 x 6, the lab's recipe otherwise) and the BadCLIP planting have the cache keys of the
        // models docs/results.md measured (artifacts/experiments/lab-store-w192): the same settings, setting for setting.
        using var temp = new TempDirectory();
        var store = new SyntheticModelStore(temp.Path);
        var lab = new SyntheticBackdoorLab(store, c.Lab);
        Assert.Equal("clean-f93346774f7d", Path.GetFileName(store.EntryPath("clean", lab.CleanSettings)));
        var badClip = new SyntheticBackdoorLab(store, c.LabFor(SyntheticAttack.BadClip));
        Assert.Equal("planted-badclip-bfe670037a43", Path.GetFileName(store.EntryPath("planted-badclip", badClip.PlantedSettings(SyntheticAttack.BadClip))));
        Assert.Equal((192, 6, 6), (c.Lab.Model.VisionWidth, c.Lab.Model.VisionLayers, c.Lab.Model.VisionHeads));
        var shapes = c.Lab.DefendedWorld!;
        Assert.Equal((0.21 * 0.93, 0.31 * 0.93, 0.12 * 0.93), (shapes.SmallHalfExtent, shapes.LargeHalfExtent, shapes.SecondObjectHalfExtent));
        // BadCLIP at 5% poison, BadNets and Blended at the lab's 10%; WaNet (not planted in the lab) left out.
        Assert.Equal([SyntheticAttack.BadNets, SyntheticAttack.Blended, SyntheticAttack.BadClip], c.Attacks);
        Assert.Equal(0.05, c.LabFor(SyntheticAttack.BadClip).Planting.PoisonFraction);
        Assert.Equal(0.1, c.LabFor(SyntheticAttack.BadNets).Planting.PoisonFraction);
        Assert.Same(c.Lab, c.LabFor(SyntheticAttack.Blended));
        // The defender: 256 shots for 8 epochs, prompts at D = 3, b = 4, every defence; CleanCLIP on 12,000 pairs.
        var s = c.Suite;
        Assert.Equal(7, s.Defences.Distinct().Count());
        Assert.Equal((256, 8, 8, false, false), (s.Shots, s.PromptTraining.Epochs, s.FineTuning.Training.Epochs, s.PromptTraining.Augment, s.FineTuning.Training.Augment));
        Assert.Equal((3, 4), (s.Prompts!.UnpromptedDepth, s.Prompts.Tokens));
        Assert.Equal((12_000, 4), (c.CleanClipPairs, s.CleanClip.FineTuning.Epochs));
        Assert.Equal([1e-5, 1e-3], s.CleanClipLearningRates);
        Assert.Equal([1e-4, 1e-3, 1e-2], s.FineTuningLearningRates);
        Assert.Equal([0.002, 0.02, 0.2], s.PromptLearningRates);
        Assert.Equal((12_288, 600, 1_200), (c.PoolImages, c.ValidationImages, c.TestImages));
        Assert.Equal(c.PoolImages, c.WithShots(256).PoolImages);
        s.Validate();
        c.Lab.Validate();
    }

    [Fact]
    public void The_default_is_the_calibrated_world_cut_to_BadCLIP_and_four_defences()
    {
        var d = LabDemoSettings.Default;
        var c = LabDemoSettings.Calibrated;
        Assert.Equal("default", d.Preset);
        // The same world, models and defender: only the attacks and the defences are cut.
        Assert.Same(c.Lab, d.Lab);
        Assert.Same(c.PoisonFractions, d.PoisonFractions);
        Assert.Equal([SyntheticAttack.BadClip], d.Attacks);
        Assert.Equal([DefenceKind.None, DefenceKind.PlainVpt, DefenceKind.LinearProbe, DefenceKind.Rvpt], d.Suite.Defences);
        Assert.Equal(c.Suite with { Defences = d.Suite.Defences }, d.Suite);
        Assert.Equal((c.PoolImages, c.ValidationImages, c.TestImages, c.CleanClipPairs), (d.PoolImages, d.ValidationImages, d.TestImages, d.CleanClipPairs));
        // What the cut leaves out is said in the report; the full preset leaves nothing out.
        Assert.Contains("CleanCLIP", d.Scope);
        Assert.Contains("full fine-tuning", d.Scope);
        Assert.Contains("--calibrated", d.Scope);
        Assert.Null(c.Scope);
        // The help's spelling of the default defences is the preset's.
        Assert.Equal(d.Suite.Defences.Order(), SuiteOptions.ParseDefences(LabDemoCommand.DefaultDefences));
    }

    [Fact]
    public void One_preset_flag_at_most()
    {
        Assert.Same(LabDemoSettings.Default, LabOptions.Preset(false, false, false));
        Assert.Same(LabDemoSettings.Quick, LabOptions.Preset(true, false, false));
        Assert.Same(LabDemoSettings.Calibrated, LabOptions.Preset(false, true, false));
        Assert.Same(LabDemoSettings.SmallWorld, LabOptions.Preset(false, false, true));
        foreach (var (q, c, s) in new[] { (true, true, false), (true, false, true), (false, true, true), (true, true, true) })
            Assert.Contains("pass at most one", Assert.Throws<CliInputException>(() => LabOptions.Preset(q, c, s)).Message);
    }

    [Fact]
    public void Lab_build_and_plant_use_the_demos_preset_and_its_poison_fractions()
    {
        var options = new LabOptions();
        var command = new System.CommandLine.Command("plant");
        options.AddTo(command);
        SyntheticLabOptions For(SyntheticAttack? attack, params string[] args) => options.LabFor(command.Parse(args), attack);
        Assert.Equal(LabDemoSettings.Default.Lab, For(null));
        Assert.Equal(LabDemoSettings.Default.Lab, For(SyntheticAttack.BadNets));
        Assert.Equal(0.05, For(SyntheticAttack.BadClip).Planting.PoisonFraction); // the model the default demo loads
        Assert.Equal(0.02, For(SyntheticAttack.BadClip, "--poison-fraction", "0.02").Planting.PoisonFraction);
        Assert.Equal(LabDemoSettings.SmallWorld.Lab, For(SyntheticAttack.BadClip, "--small-world"));
        Assert.Equal(LabDemoSettings.Quick.Lab, For(null, "--quick"));
        Assert.Contains("pass at most one", Assert.Throws<CliInputException>(() => For(null, "--quick", "--small-world")).Message);
    }

    [Fact]
    public void The_small_world_is_the_labs_first_world_with_four_attacks_and_16_shots()
    {
        var w = LabDemoSettings.SmallWorld;
        Assert.Equal("small-world", w.Preset);
        Assert.Equal((128, 4), (w.Lab.Model.VisionWidth, w.Lab.Model.VisionLayers));
        Assert.Null(w.Lab.DefendedWorld);
        Assert.Equal(4, w.Attacks.Count);
        Assert.Equal((16, 768), (w.Suite.Shots, w.PoolImages));
        Assert.Null(w.Suite.Prompts); // the paper's ratios scaled to the model: D = 1, b = 16
    }

    [Fact]
    public void Presets_without_per_attack_fractions_plant_every_attack_with_the_labs()
    {
        foreach (var attack in Enum.GetValues<SyntheticAttack>())
            Assert.Same(LabDemoSettings.SmallWorld.Lab, LabDemoSettings.SmallWorld.LabFor(attack));
        var settings = LabDemoSettings.Quick with { PoisonFractions = new Dictionary<SyntheticAttack, double> { [SyntheticAttack.WaNet] = 0.3 } };
        Assert.Equal(0.3, settings.LabFor(SyntheticAttack.WaNet).Planting.PoisonFraction);
        Assert.Equal(settings.Lab.Planting with { PoisonFraction = 0.3 }, settings.LabFor(SyntheticAttack.WaNet).Planting);
    }
}
