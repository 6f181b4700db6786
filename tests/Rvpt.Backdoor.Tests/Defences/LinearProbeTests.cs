using Rvpt.Clip;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>The linear-probe baseline learns from frozen features.</summary>
public sealed class LinearProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void ProbeOnFrozenFeaturesBeatsChanceAndLeavesClipFrozen()
    {
        var config = new ClipConfig
        {
            EmbedDim = 32,
            Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 2, Heads = 2 },
            Text = new ClipTextConfig { ContextLength = 12, VocabSize = 600, Width = 32, Layers = 1, Heads = 2 },
        };
        using var clip = ClipModel.Create(config, seed: 3);
        var fingerprint = ClipWeightsFingerprint.Compute(clip);
        var (trainImages, trainLabels) = ToyShapes.Make(16, 1);
        var (testImages, testLabels) = ToyShapes.Make(8, 9);
        using var train = new TensorDataset(trainImages, tensor(trainLabels), ToyShapes.Classes);
        using var test = new TensorDataset(testImages, tensor(testLabels), ToyShapes.Classes);

        using var probe = LinearProbe.Train(clip, train);
        var metrics = new BackdoorEvaluator(clip.ImageProcessor).Evaluate(probe, test, trigger: null, targetClass: 0);
        output.WriteLine($"linear probe CA on held-out toy shapes: {metrics.CleanAccuracy:P1}");
        Assert.True(metrics.CleanAccuracy > 0.5, $"a probe should beat chance (25%) clearly, got {metrics.CleanAccuracy:P1}");
        Assert.Equal(fingerprint, ClipWeightsFingerprint.Compute(clip));

        using var again = LinearProbe.Train(clip, train);
        using var scope = NewDisposeScope();
        var pixels = clip.ImageProcessor.Normalize(testImages);
        Assert.True(probe.Predict(pixels).equal(again.Predict(pixels)).all().item<bool>(), "same seed, same probe");
    }
}
