using Rvpt.Backdoor.Lab;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

public class SyntheticBackdoorLabTests
{
    private static readonly string[] Broad = SyntheticWorldOptions.SupportedShapes.Take(16).ToArray();

    [Fact]
    public void Defender_sets_hold_only_the_defended_classes_of_the_broad_world()
    {
        using var temp = new TempDirectory();
        string[] defended = ["square", "star", "pentagon"];
        var lab = new SyntheticBackdoorLab(new SyntheticModelStore(temp.Path), new SyntheticLabOptions
        {
            World = new SyntheticWorldOptions { ClassNames = Broad }, DefendedClasses = defended, TargetClass = "star",
        });

        Assert.Equal(defended, lab.DefendedClasses);
        Assert.Equal(1, lab.TargetClassIndex);
        using var test = lab.TestSet(7);
        Assert.Equal(defended, test.ClassNames);
        Assert.Equal(new[] { 0, 1, 2, 0, 1, 2, 0 }, Enumerable.Range(0, 7).Select(test.GetLabel));
        // Sample j is the world's sample (j / 3) * 16 + index of its class: the same image, distractors included.
        long seed = SyntheticWorld.SplitSeed(2, SyntheticSplit.Test);
        for (int j = 0; j < 7; j++)
        {
            int worldIndex = j / 3 * Broad.Length + Array.IndexOf(Broad, defended[j % 3]);
            Assert.Equal(defended[j % 3], lab.World.Describe(seed, worldIndex).ClassName);
            using var expected = lab.World.Render(seed, worldIndex);
            using var actual = test.LoadPixels01(j);
            Assert.True(expected.equal(actual).all().item<bool>(), $"sample {j}");
        }
    }

    [Fact]
    public void Without_a_defended_subset_the_sets_are_the_worlds_own()
    {
        using var temp = new TempDirectory();
        var lab = new SyntheticBackdoorLab(new SyntheticModelStore(temp.Path));
        using var pool = lab.DefenderPool(24);
        using var world = lab.World.ToLabeledDataset(SyntheticWorld.SplitSeed(2, SyntheticSplit.Train), 24);
        Assert.Equal(lab.World.ClassNames, pool.ClassNames);
        for (int i = 0; i < 24; i++)
        {
            using var a = pool.LoadPixels01(i);
            using var b = world.LoadPixels01(i);
            Assert.True(a.equal(b).all().item<bool>());
            Assert.Equal(world.GetLabel(i), pool.GetLabel(i));
        }
        Assert.Equal(lab.World.ClassNames.ToList().IndexOf("star"), lab.TargetClassIndex);
    }

    [Fact]
    public void A_defended_world_draws_the_defender_sets_and_leaves_the_models_keys_alone()
    {
        using var temp = new TempDirectory();
        var store = new SyntheticModelStore(temp.Path);
        var plain = new SyntheticBackdoorLab(store);
        var shifted = new SyntheticBackdoorLab(store, new SyntheticLabOptions { DefendedWorld = new SyntheticWorldOptions().WithShapeScale(0.93) });

        Assert.Same(plain.World, plain.DefendedWorld);
        Assert.Equal(0.21 * 0.93, shifted.DefendedWorld.Options.SmallHalfExtent, 12);
        long seed = SyntheticWorld.SplitSeed(2, SyntheticSplit.Validation);
        using var validation = shifted.ValidationSet(5);
        for (int i = 0; i < 5; i++)
        {
            using var expected = shifted.DefendedWorld.Render(seed, i);
            using var actual = validation.LoadPixels01(i);
            using var unshifted = plain.World.Render(seed, i);
            Assert.True(expected.equal(actual).all().item<bool>(), $"sample {i} is not the defended world's");
            Assert.False(unshifted.equal(actual).all().item<bool>(), $"sample {i} is the pre-training world's");
        }
        // No model trains on the defended task, so its world is in no cache key.
        Assert.Equal(plain.CleanSettings, shifted.CleanSettings);
        Assert.Equal(plain.PlantedSettings(SyntheticAttack.BadNets), shifted.PlantedSettings(SyntheticAttack.BadNets));
        // CleanCLIP's pairs stay in the pre-training world.
        using var a = plain.DefenderPairs(3);
        using var b = shifted.DefenderPairs(3);
        Assert.Equal(Enumerable.Range(0, 3).Select(a.GetCaption), Enumerable.Range(0, 3).Select(b.GetCaption));
    }

    [Fact]
    public void A_defended_world_must_have_the_worlds_classes_and_image_size()
    {
        var e = Assert.Throws<ArgumentException>(() => new SyntheticLabOptions { DefendedWorld = new SyntheticWorldOptions { ImageSize = 48 } }.Validate());
        Assert.Contains("image size 48 (world 32)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SyntheticLabOptions
        {
            DefendedWorld = new SyntheticWorldOptions { ClassNames = SyntheticWorldOptions.SupportedShapes.Take(13).ToArray() },
        }.Validate());
        Assert.Equal("DefendedWorld", e.ParamName);
    }

    [Fact]
    public void Planted_models_keys_do_not_depend_on_where_the_store_is()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        var here = new SyntheticBackdoorLab(new SyntheticModelStore(a.Path)).PlantedSettings(SyntheticAttack.Blended);
        var there = new SyntheticBackdoorLab(new SyntheticModelStore(b.Path)).PlantedSettings(SyntheticAttack.Blended);
        Assert.Equal(here, there);
        Assert.DoesNotContain(a.Path, here);
        Assert.Contains("\"Clean\":\"clean-", here);
    }

    [Fact]
    public void Refuses_defended_classes_outside_the_world_and_a_target_outside_them()
    {
        var e = Assert.Throws<ArgumentException>(() => new SyntheticLabOptions { DefendedClasses = ["star", "kite"] }.Validate());
        Assert.Contains("kite", e.Message);
        e = Assert.Throws<ArgumentException>(() => new SyntheticLabOptions { DefendedClasses = ["circle", "square"] }.Validate());
        Assert.Contains("TargetClass 'star'", e.Message);
        Assert.Throws<ArgumentException>(() => new SyntheticLabOptions { DefendedClasses = ["star"] }.Validate());
        Assert.Throws<ArgumentException>(() => new SyntheticLabOptions { Model = new SyntheticModelOptions { PatchSize = 5 } }.Validate());
        var world = new SyntheticWorld();
        Assert.Throws<ArgumentException>(() => world.ToLabeledDataset(0, 4, ["star", "star"]));
        Assert.Throws<ArgumentException>(() => world.ToLabeledDataset(0, 4, ["kite"]));
    }

    [Fact]
    public void Model_options_give_the_configured_architecture()
    {
        var config = new SyntheticModelOptions { VisionWidth = 192, VisionLayers = 6, VisionHeads = 6, TextLayers = 1, PatchSize = 4 }.ToConfig(32, 100);
        Assert.Equal((192, 6, 6, 4, 64), (config.Vision.Width, config.Vision.Layers, config.Vision.Heads, config.Vision.PatchSize, config.Vision.GridSize * config.Vision.GridSize));
        Assert.Equal((128, 1, 100, SyntheticClip.ContextLength), (config.Text.Width, config.Text.Layers, config.Text.VocabSize, config.Text.ContextLength));
        var defaults = SyntheticClip.Config(new SyntheticWorld(), 100);
        Assert.Equal(new SyntheticModelOptions().ToConfig(32, 100).ParameterCount, defaults.ParameterCount);
    }
    [Fact]
    public void The_labs_calibrated_triggers_are_image_independent()
    {
        // The lab was calibrated (docs/results.md) with one fixed Blended pattern and a fixed checkerboard BadNets patch;
        // the library's CleanCLIP-style defaults draw per-image noise and did not plant with the lab's recipe.
        var options = new SyntheticLabOptions();
        using var scope = NewDisposeScope();
        var a = full(new long[] { 1, 3, 32, 32 }, 0.5f);
        var b = full(new long[] { 1, 3, 32, 32 }, 0.25f);

        var blended = new BlendedTrigger(options.Blended);
        var patternA = (blended.Apply(a, seed: 1) - 0.8 * a) / 0.2;
        var patternB = (blended.Apply(b, seed: 2) - 0.8 * b) / 0.2;
        Assert.True(patternA.allclose(patternB, rtol: 0, atol: 1e-5), "the Blended pattern differs between images");
        Assert.True(patternA.std().item<float>() > 0.1f, "the Blended pattern is not noise");

        var badNets = new BadNetsTrigger(options.BadNets);
        var ta = badNets.Apply(a, seed: 1);
        var tb = badNets.Apply(b, seed: 2);
        var changed = ta.ne(a).any(1);                        // [1, 32, 32]: pixels the patch touched
        Assert.Equal(16, changed.sum().item<long>());          // a 4 x 4 patch
        Assert.True(changed[0, 31, 31].item<bool>(), "the patch is not in the bottom-right corner");
        Assert.True(ta.masked_select(changed.unsqueeze(1)).equal(tb.masked_select(changed.unsqueeze(1))).all().item<bool>(), "the BadNets patch depends on the image");
    }
    [Fact]
    public void The_labs_BadNets_patch_renders_on_worker_threads()
    {
        // Planting loads poisoned images in Parallel.For; the checkerboard once failed there ("For integral input
        // tensors, argument alpha must not be a floating point number") although it rendered on the test thread.
        var trigger = new BadNetsTrigger(new SyntheticLabOptions().BadNets);
        var sums = new float[8];
        Parallel.For(0, sums.Length, i =>
        {
            using var scope = NewDisposeScope();
            sums[i] = trigger.Apply(zeros(1, 3, 32, 32), seed: i).sum().item<float>();
        });
        Assert.All(sums, s => Assert.Equal(3 * 8, s));   // 8 white cells of a 4 x 4 checkerboard, 3 channels
    }
}
