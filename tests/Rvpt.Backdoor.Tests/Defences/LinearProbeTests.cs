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

        // The head's initialisation draws from its own generator: another thread drawing from libtorch's global one
        // at the same time (as parallel tests or a host's other work do) does not change the probe.
        using var stop = new CancellationTokenSource();
        var noise = new Thread(() =>
        {
            while (!stop.IsCancellationRequested) { using var x = rand(64); }
        });
        noise.Start();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                using var concurrent = LinearProbe.Train(clip, train);
                using var s = NewDisposeScope();
                Assert.True(probe.Predict(pixels).equal(concurrent.Predict(pixels)).all().item<bool>(), "a concurrent draw from the global generator changed the probe");
            }
        }
        finally
        {
            stop.Cancel();
            noise.Join();
        }
    }
}

/// <summary>
/// The probe's head starts where <c>torch.manual_seed(seed); nn.Linear(...)</c> starts, bit for bit. Seeds libtorch's
/// global generator, so it runs alone.
/// </summary>
[Collection(GlobalGenerator.Name)]
public sealed class LinearProbeInitializationTests
{
    [Theory]
    [InlineData(0L, 32, 4)]
    [InlineData(7L, 512, 10)]
    public void HeadInitializationEqualsManualSeedThenLinear(long seed, int inputs, int outputs)
    {
        random.manual_seed(seed);
        using var expected = TorchSharp.torch.nn.Linear(inputs, outputs);
        random.manual_seed(seed + 1); // a different global state: the probe must not read it
        using var head = TorchSharp.torch.nn.Linear(inputs, outputs);
        LinearProbe.InitializeHead(head, seed);
        Assert.True(head.weight!.equal(expected.weight!).all().item<bool>(), "weights differ from manual_seed + nn.Linear");
        Assert.True(head.bias!.equal(expected.bias!).all().item<bool>(), "biases differ from manual_seed + nn.Linear");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalGenerator
{
    public const string Name = "libtorch's global generator";
}
