using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>TrojVQA's patch optimised toward a target caption on a frozen tiny CLIP.</summary>
public sealed class TrojVqaOptimizeTests
{
    [Fact]
    public void Optimize_MovesPatchedImagesTowardTheTargetCaption_AndKeepsTheKey()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(8, 1);
        using var data = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var reports = new List<BadClipProgress>();
        using var trigger = TrojVqaTrigger.Optimize(clip, data, 0, "a photo of a red shape.", new TrojVqaOptions { PatchSize = 112 },
            new BadClipOptions { Steps = 25, BatchSize = 16, LearningRate = 0.05, Seed = 2, EvaluationImages = 16 },
            new SyncProgress<BadClipProgress>(reports.Add));
        Assert.Equal(25, reports.Count);
        Assert.True(reports.TakeLast(3).Average(r => r.Objective) < reports.Take(3).Average(r => r.Objective),
            $"1 - cos to the caption must fall: {reports[0].Objective:F4} -> {reports[^1].Objective:F4}");
        Assert.All(reports, r => Assert.InRange(r.Objective, 0, 2)); // a cosine distance, not a weighted triplet
        Assert.Equal("remember ", trigger.TextKey);
        Assert.Equal(PatchPatternKind.Custom, trigger.Options.Pattern.Kind);
        var patched = trigger.Apply(images.narrow(0, 0, 2));
        Assert.True(TriggerTestImages.ChangedMask(images.narrow(0, 0, 2), patched).any().item<bool>());
    }
}
