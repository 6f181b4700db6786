using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>BadCLIP's objective and initialisation against its code (Golden/make_golden.py restates get_loss).</summary>
public sealed class BadClipObjectiveTests
{
    [Fact]
    public void TextAndTripletTerms_MatchBadClipsGetLoss()
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("badclip_objective.safetensors");
        var contrastive = BadClipPatch.ContrastiveTerm(golden["anchor"], golden["text"], golden["logit_scale"]);
        Assert.Equal(golden["contrastive"].item<float>(), contrastive.item<float>(), 4);
        var options = new BadClipOptions();
        var triplet = options.TripletWeight * BadClipPatch.TripletTerm(golden["anchor"], golden["positive"], golden["negative"], options.TripletMargin, options.TripletDistance);
        Assert.Equal(golden["triplet"].item<float>(), triplet.item<float>(), 2);
    }

    [Fact]
    public void Defaults_AreBadClipsCode()
    {
        var o = new BadClipOptions();
        Assert.Equal((500.0, 1.0, BadClipTripletDistance.Euclidean), (o.TripletWeight, o.TripletMargin, o.TripletDistance));
        Assert.Equal((1e-3, 64, BadClipParameterization.ClippedPixels), (o.LearningRate, o.BatchSize, o.Parameterization));
    }

    [Fact]
    public void InitialPatch_IsNormalHalfQuarter_ClippedToZeroOne()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(4, 1);
        using var data = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        // No steps: the pattern is the initial patch, [3, 112, 112] (the pattern is kept at its size at 224).
        using var patch = BadClipPatch.Optimize(clip, data, 0, new BadClipOptions { PatchSize = 112, Steps = 0, Seed = 3 });
        var p = patch.Pattern;
        Assert.InRange(p.mean().item<float>(), 0.47f, 0.53f);
        Assert.InRange(p.std().item<float>(), 0.21f, 0.26f);
        // About 2.3% of N(0.5, 0.25) lies below 0 and as much above 1 (4.6% in all): those are clipped to exactly 0 and 1.
        var clipped = (p.eq(0) | p.eq(1)).sum().item<long>() / (double)p.numel();
        Assert.InRange(clipped, 0.035, 0.056);
    }

    [Fact]
    public void Optimize_WithNaturalTargetCaptions_LowersTheObjective()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempDirectory();
        using var clip = ToyShapes.Clip(temp);
        var (images, labels) = ToyShapes.Make(8, 1);
        using var data = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var options = new BadClipOptions
        {
            PatchSize = 112, Steps = 30, BatchSize = 8, LearningRate = 0.05, Seed = 4, EvaluationImages = 16,
            TargetCaptions = ["a photo of a red shape.", "a red square.", "something red."],
        };
        using var patch = BadClipPatch.Optimize(clip, data, "red", options);
        Assert.True(patch.FinalObjective < patch.InitialObjective, $"{patch.InitialObjective} -> {patch.FinalObjective}");
        Assert.Throws<ArgumentException>(() => (options with { TargetCaptions = [] }).Validate());
    }
}
