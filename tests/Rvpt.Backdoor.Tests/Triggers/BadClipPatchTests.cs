using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>BadCLIP: patch optimisation on a frozen tiny CLIP, centre pasting, persistence and determinism.</summary>
public sealed class BadClipPatchTests(ITestOutputHelper output)
{
    private static readonly string[] Classes = ToyShapes.Classes;

    // 56 pixels at 224 is an 8-pixel patch on the 32-pixel toy images, at rows/columns [12, 20).
    private static readonly BadClipOptions Fast = new() { PatchSize = 56, Steps = 30, BatchSize = 16, LearningRate = 0.05, Seed = 5, EvaluationImages = 24 };

    private sealed class World : IDisposable
    {
        public World()
        {
            Temp = new TempDirectory();
            Clip = ToyShapes.Clip(Temp);
            var (images, labels) = ToyShapes.Make(8, 1);
            Data = new TensorDataset(images, tensor(labels), Classes);
        }

        public TempDirectory Temp { get; }
        public ClipModel Clip { get; }
        public TensorDataset Data { get; }

        public void Dispose()
        {
            Data.Dispose();
            Clip.Dispose();
            Temp.Dispose();
        }
    }

    [Fact]
    public void OptimisationLowersItsOwnObjectiveAndLeavesClipUntouched()
    {
        using var world = new World();
        var fingerprint = ClipWeightsFingerprint.Compute(world.Clip);
        var flags = world.Clip.parameters().Select(p => p.requires_grad).ToList();
        var reports = new List<BadClipProgress>();

        using var patch = BadClipPatch.Optimize(world.Clip, world.Data, "yellow", Fast, new SyncProgress<BadClipProgress>(reports.Add));
        output.WriteLine($"objective {patch.InitialObjective:F4} -> {patch.FinalObjective:F4}; steps {patch.ObjectiveHistory[0]:F4} ... {patch.ObjectiveHistory[^1]:F4}");

        Assert.True(patch.FinalObjective < patch.InitialObjective,
            $"the objective must fall: {patch.InitialObjective} -> {patch.FinalObjective}");
        Assert.Equal(Fast.Steps, patch.ObjectiveHistory.Count);
        Assert.Equal(Fast.Steps, reports.Count);
        Assert.Equal("yellow", patch.TargetClass);
        Assert.Equal(new long[] { 3, 56, 56 }, patch.Pattern.shape);
        Assert.True(patch.Pattern.min().item<float>() >= 0f && patch.Pattern.max().item<float>() <= 1f);
        Assert.Equal(fingerprint, ClipWeightsFingerprint.Compute(world.Clip));
        Assert.Equal(flags, world.Clip.parameters().Select(p => p.requires_grad).ToList());
        Assert.Equal("BadCLIP", patch.Name);
        Assert.Null(patch.TextKey);
    }

    [Fact]
    public void ApplyChangesOnlyTheCentrePatchAndMatchesTheDifferentiablePaste()
    {
        using var scope = NewDisposeScope();
        var pattern = rand(new long[] { 3, 56, 56 }, generator: new Generator(7, CPU));
        using var patch = new BadClipPatch(pattern, 56);
        var (images, _) = ToyShapes.Make(2, 3);
        var applied = patch.Apply(images);

        var changed = applied.sub(images).abs().amax(new long[] { 0, 1 }).gt(0);
        var inside = zeros(new long[] { 32, 32 }, ScalarType.Bool);
        inside.narrow(0, 12, 8).narrow(1, 12, 8).fill_(true);
        Assert.False(changed.logical_and(inside.logical_not()).any().item<bool>(), "pixels outside the centre patch changed");
        Assert.True(changed.logical_and(inside).any().item<bool>(), "the patch region did not change");
        TensorAssert.BitIdentical(images.narrow(2, 0, 12), applied.narrow(2, 0, 12), "rows above the patch");

        var expected = nn.functional.interpolate(pattern.unsqueeze(0), new long[] { 8, 8 }, mode: InterpolationMode.Nearest).squeeze(0);
        for (int i = 0; i < images.shape[0]; i++)
            TensorAssert.BitIdentical(expected, applied[i].narrow(1, 12, 8).narrow(2, 12, 8), $"patch of row {i}");
        TensorAssert.BitIdentical(applied, BadClipPatch.PasteCentre(images, pattern, 56), "differentiable paste");

        // Gradients reach the pattern through the paste, and only through the patch pixels.
        var free = pattern.clone().requires_grad_(true);
        BadClipPatch.PasteCentre(images, free, 56).sum().backward();
        Assert.NotNull(free.grad);
        Assert.True(free.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void SaveLoadRoundTripGivesIdenticalApply()
    {
        using var world = new World();
        using var patch = BadClipPatch.Optimize(world.Clip, world.Data, 3, Fast with { Steps = 3 });
        var path = Path.Combine(world.Temp.Path, "badclip.safetensors");
        patch.Save(path);
        using var loaded = BadClipPatch.Load(path);
        Assert.Equal(56, loaded.PatchSize);
        Assert.Equal("yellow", loaded.TargetClass);
        Assert.Empty(loaded.ObjectiveHistory);

        using var scope = NewDisposeScope();
        var (images, _) = ToyShapes.Make(2, 4);
        TensorAssert.BitIdentical(patch.Pattern, loaded.Pattern, "pattern");
        TensorAssert.BitIdentical(patch.Apply(images), loaded.Apply(images), "applied images");
        var big = rand(new long[] { 1, 3, 224, 224 }, generator: new Generator(1, CPU));
        TensorAssert.BitIdentical(patch.Apply(big), loaded.Apply(big), "applied at 224");
    }

    [Fact]
    public void OptimisationIsDeterministicForASeed()
    {
        using var world = new World();
        var options = Fast with { Steps = 5 };
        using var a = BadClipPatch.Optimize(world.Clip, world.Data, "yellow", options);
        using var b = BadClipPatch.Optimize(world.Clip, world.Data, "yellow", options);
        using var c = BadClipPatch.Optimize(world.Clip, world.Data, "yellow", options with { Seed = 6 });
        TensorAssert.BitIdentical(a.Pattern, b.Pattern, "same seed");
        Assert.Equal(a.ObjectiveHistory, b.ObjectiveHistory);
        Assert.True(TensorAssert.MaxAbsDiff(a.Pattern, c.Pattern) > 1e-3, "another seed should give another patch");
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        using var world = new World();
        Assert.Throws<ArgumentException>(() => BadClipPatch.Optimize(world.Clip, world.Data, "purple", Fast));
        Assert.Throws<ArgumentOutOfRangeException>(() => BadClipPatch.Optimize(world.Clip, world.Data, 4, Fast));
        Assert.Throws<ArgumentException>(() => BadClipPatch.Optimize(world.Clip, world.Data, 0, Fast with { PatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => new BadClipOptions { ContrastiveWeight = 0, TripletWeight = 0 }.Validate());
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => new BadClipPatch(full(new long[] { 3, 4, 4 }, 2f)));
    }
}
