using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Backdoor.Tests;

public class DefenceSuiteTests
{
    private static DefenceSuiteOptions Small(params DefenceKind[] defences) => new()
    {
        Defences = defences,
        Shots = 2,
        Seeds = [1, 2],
        PromptTraining = new TrainingOptions { Epochs = 2, BatchSize = 4, Augment = false },
        PromptLearningRates = [0.002, 0.05],
        Probe = new LinearProbeOptions { Epochs = 3 },
        ProbeLearningRates = [0.01, 0.1],
        CleanClip = new CleanClipOptions { FineTuning = new ContrastiveFineTuningOptions { LearningRate = 1e-5, Epochs = 1, BatchSize = 8 } },
        CleanClipLearningRates = [1e-5],
        FineTuning = new FullFineTuningOptions { Training = new TrainingOptions { Epochs = 2, BatchSize = 4, Augment = false } },
        FineTuningLearningRates = [1e-3, 1e-2],
        ResistivityImages = 8,
        EvaluationBatchSize = 16,
    };

    [Fact]
    public void Runs_every_defence_and_seed_selects_on_validation_and_leaves_the_model_untouched()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        using var before = new DisposableTensors(clip.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone()));
        var (images, labels) = ToyShapes.Make(6, seed: 1);
        using var pool = new TensorDataset(images, TorchSharp.torch.tensor(labels), ToyShapes.Classes);
        var (vi, vl) = ToyShapes.Make(3, seed: 2);
        using var validation = new TensorDataset(vi, TorchSharp.torch.tensor(vl), ToyShapes.Classes);
        var (ti, tl) = ToyShapes.Make(4, seed: 3);
        using var test = new TensorDataset(ti, TorchSharp.torch.tensor(tl), ToyShapes.Classes);
        using var pairs = ToyShapes.CaptionPairs(4, seed: 4);
        var trigger = new BadNetsTrigger(new BadNetsOptions { PatchSize = 56 });
        var reports = new List<DefenceSuiteProgress>();
        var suite = new DefenceSuite(Small(DefenceKind.None, DefenceKind.PlainVpt, DefenceKind.LinearProbe, DefenceKind.CleanClip, DefenceKind.Rvpt,
            DefenceKind.FullFineTuning, DefenceKind.RepulsiveFineTuning));

        var result = suite.Run(new DefenceSuiteRequest(clip, pool, validation, test) { Attack = "BadNets", Trigger = trigger, TargetClass = 0, CleanPairs = pairs },
            new SyncProgress<DefenceSuiteProgress>(reports.Add));

        Assert.Equal(1 + 6 * 2, result.Runs.Count); // none once, the six trained defences per seed
        Assert.All(result.Runs, r =>
        {
            Assert.InRange(r.Metrics.CleanAccuracy, 0, 1);
            Assert.InRange(r.Metrics.AttackSuccessRate, 0, 1);
            Assert.Equal(test.Count, r.Metrics.CleanCount);
        });
        foreach (var run in result.Runs.Where(r => r.Defence != DefenceKind.None))
        {
            var chosen = Assert.Single(run.Selection, t => t.Chosen);
            Assert.Equal(run.Selection.Max(t => t.ValidationAccuracy), chosen.ValidationAccuracy);
            Assert.Equal(run.Selection.First(t => t.ValidationAccuracy == chosen.ValidationAccuracy), chosen); // ties go to the first
            Assert.Equal(chosen.Candidate, "lr=" + run.Configuration["lr"]);
        }
        var rvpt = result.Runs.First(r => r.Defence == DefenceKind.Rvpt);
        Assert.Equal("2", rvpt.Configuration["alpha"]);
        Assert.Equal("0", result.Runs.First(r => r.Defence == DefenceKind.PlainVpt).Configuration["alpha"]);
        Assert.Equal("0", result.Runs.First(r => r.Defence == DefenceKind.FullFineTuning).Configuration["alpha"]);
        var repelled = result.Runs.First(r => r.Defence == DefenceKind.RepulsiveFineTuning);
        Assert.Equal("2", repelled.Configuration["alpha"]);
        Assert.Equal(rvpt.Configuration["D"], repelled.Configuration["D"]); // repels the blocks RVPT prompts
        Assert.Equal("fine-tuning + FR", DefenceSuite.DisplayName(DefenceKind.RepulsiveFineTuning));
        Assert.NotNull(result.ResistivityBefore);
        Assert.NotNull(result.ResistivityAfter);
        Assert.Equal(clip.Config.Vision.Layers, result.ResistivityAfter!.First().Value.Length);
        Assert.Equal(1.0, reports[^1].Fraction, 6);
        Assert.True(reports.Select(r => r.Fraction).Zip(reports.Skip(1).Select(r => r.Fraction)).All(p => p.Second >= p.First - 1e-9), "progress never goes back");
        foreach (var (key, value) in clip.state_dict())
            Assert.True(value.equal(before.Tensors[key]).all().item<bool>(), $"{key} changed");
    }

    [Fact]
    public void Saves_the_chosen_RVPT_prompts_per_seed()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(4, seed: 1);
        using var data = new TensorDataset(images, TorchSharp.torch.tensor(labels), ToyShapes.Classes);
        var suite = new DefenceSuite(Small(DefenceKind.Rvpt) with { PromptOutputDirectory = temp.File("prompts"), ResistivityImages = 0 });
        suite.Run(new DefenceSuiteRequest(clip, data, data, data) { Attack = "Blended", Trigger = new BlendedTrigger(), TargetClass = 1 });
        Assert.True(File.Exists(temp.File("prompts/blended-rvpt-seed1.safetensors")));
        Assert.True(File.Exists(temp.File("prompts/blended-rvpt-seed2.safetensors")));
    }

    [Fact]
    public void Refuses_mismatched_classes_and_CleanCLIP_without_pairs()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(2, seed: 1);
        using var data = new TensorDataset(images, TorchSharp.torch.tensor(labels), ToyShapes.Classes);
        using var other = new TensorDataset(images, TorchSharp.torch.tensor(labels), ["a", "b", "c", "d"]);
        var suite = new DefenceSuite(Small(DefenceKind.None, DefenceKind.CleanClip));
        Assert.Throws<ArgumentException>(() => suite.Run(Request(clip, data, other, data, 0)));
        var e = Assert.Throws<ArgumentException>(() => suite.Run(Request(clip, data, data, data, 0)));
        Assert.Contains("CleanCLIP", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => suite.Run(Request(clip, data, data, data, 9)));
        Assert.Throws<ArgumentException>(() => new DefenceSuite(new DefenceSuiteOptions { PromptLearningRates = [] }));
    }

    private static DefenceSuiteRequest Request(ClipModel clip, ILabeledImageSource pool, ILabeledImageSource validation, ILabeledImageSource test, int target) =>
        new(clip, pool, validation, test) { Attack = "x", Trigger = new BlendedTrigger(), TargetClass = target };
}
