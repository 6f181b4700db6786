using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

public class PremiseCheckTests
{
    [Fact]
    public void Measures_clean_untrained_and_RVPT_accuracy_on_clean_data_only()
    {
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(4, seed: 1);
        using var pool = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var (vi, vl) = ToyShapes.Make(3, seed: 2);
        using var validation = new TensorDataset(vi, tensor(vl), ToyShapes.Classes);
        var (ti, tl) = ToyShapes.Make(5, seed: 3);
        using var test = new TensorDataset(ti, tensor(tl), ToyShapes.Classes);
        var geometry = new DeepPromptOptions { UnpromptedDepth = 1, Tokens = 4 };
        var options = new DefenceSuiteOptions
        {
            Shots = 2, Seeds = [1, 2], Prompts = geometry, PromptLearningRates = [0.002, 0.05],
            PromptTraining = new TrainingOptions { Epochs = 2, BatchSize = 4, Augment = false },
        };

        var result = PremiseCheck.Run(clip, pool, validation, test, options);

        var evaluator = new BackdoorEvaluator(clip.ImageProcessor);
        using (var zeroShot = ZeroShotImageClassifier.Create(clip, ToyShapes.Classes))
            Assert.Equal(evaluator.Evaluate(zeroShot, test, null, 0).CleanAccuracy, result.CleanAccuracy);
        double untrained = 0;
        foreach (var seed in new[] { 1, 2 })
        {
            using var prompts = DeepPromptInjector.For(clip).WithOptions(geometry with { Seed = seed }).Build();
            using var classifier = ZeroShotImageClassifier.WithPrompts(prompts, ToyShapes.Classes);
            untrained += evaluator.Evaluate(classifier, test, null, 0).CleanAccuracy;
        }
        Assert.Equal(untrained / 2, result.UntrainedPromptAccuracy, 12);
        Assert.Equal(2, result.Runs.Count);
        Assert.All(result.Runs, r =>
        {
            Assert.Equal(DefenceKind.Rvpt, r.Defence);
            Assert.True(double.IsNaN(r.Metrics.AttackSuccessRate)); // no trigger on a clean model
            Assert.InRange(r.FinalRepelling, -1, 1);
            Assert.Equal(2, r.Selection.Count);
        });
        Assert.Equal(result.Runs.Average(r => r.Metrics.CleanAccuracy), result.RvptAccuracy, 12);
        Assert.Equal(result.Runs.Average(r => r.FinalRepelling), result.MeanRepelling, 12);
        Assert.Equal(LabGates.Premise(result.CleanAccuracy, result.UntrainedPromptAccuracy, result.RvptAccuracy), result.Gates);
        Assert.Equal(result.Gates.All(g => g.Passed), result.Passed);
    }
}
