using Rvpt.Testing;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>ISSBA: the StegaStamp-style model, its training, persistence and the trigger, at tiny sizes.</summary>
public sealed class IssbaTests(ITestOutputHelper output)
{
    private static readonly IssbaModelOptions Tiny = new() { ImageSize = 32, SecretBits = 8, Width = 4, Seed = 1 };

    [Fact]
    public void EncodeAndDecode_HaveTheModelsShapes_AndStayInRange()
    {
        using var scope = NewDisposeScope();
        using var model = new IssbaModel(Tiny);
        var images = TriggerTestImages.Noise(3, 32, 32);
        var secrets = tensor(new float[] { 1, 0, 1, 1, 0, 0, 1, 0 }).view(1, 8);
        var encoded = model.Encode(images, secrets);
        Assert.Equal(new long[] { 3, 3, 32, 32 }, encoded.shape);
        Assert.True(encoded.min().item<float>() >= 0 && encoded.max().item<float>() <= 1);
        var bits = model.Decode(encoded);
        Assert.Equal(new long[] { 3, 8 }, bits.shape);
        Assert.True(bits.eq(0).logical_or(bits.eq(1)).all().item<bool>());
        Assert.Throws<ArgumentException>(() => model.Encode(TriggerTestImages.Noise(1, 16, 16), secrets));
        Assert.Throws<ArgumentException>(() => model.Encode(images, zeros(1, 5)));
        Assert.Throws<ArgumentException>(() => new IssbaModel(Tiny with { ImageSize = 40 }));
        output.WriteLine($"tiny model: {model.ParameterCount:N0} weights; default 32 px: {new IssbaModel().ParameterCount:N0}");
    }

    [Fact]
    public void StegaConv_InputGradient_IsFinite()
    {
        // 8 output channels: with NCHW strides libtorch 2.10's oneDNN input-gradient pass returned NaN in most of these
        // identical passes on an AVX-512 machine (see StegaConv's remarks); StegaConv passes channels-last strides.
        using var scope = NewDisposeScope();
        using var conv = new StegaConv("t", 8, 8, 3, relu: false);
        foreach (var p in conv.parameters()) p.requires_grad_(false); // the input gradient alone failed most often
        var x0 = rand(new long[] { 8, 8, 16, 16 }, generator: new Generator(3, CPU));
        for (int pass = 0; pass < 200; pass++)
        {
            using var step = NewDisposeScope();
            var x = x0.detach().requires_grad_(true);
            var y = conv.forward(x);
            y.backward(new[] { ones_like(y) });
            Assert.True(x.grad!.isfinite().all().item<bool>(), $"non-finite input gradient in pass {pass}");
        }
    }

    [Fact]
    public void Training_StaysFinite_AndReportsItsMeasurements()
    {
        // Tiny widths (4 to 32 channels) are the case where libtorch's NCHW convolution backward went NaN within a few steps.
        using var scope = NewDisposeScope();
        using var model = new IssbaModel(Tiny);
        var (images, labels) = ToyShapes.Make(4, 3);
        using var data = new TensorDataset(images, tensor(labels), ToyShapes.Classes);
        var reports = new List<IssbaTrainingProgress>();
        var options = new IssbaTrainingOptions { Steps = 30, BatchSize = 8, SecretOnlySteps = 15, RampSteps = 10, EvaluationImages = 8, Seed = 2 };
        var report = IssbaTrainer.Train(model, data, data, options, new SyncProgress<IssbaTrainingProgress>(reports.Add));
        output.WriteLine($"bit accuracy {report.BitAccuracy:F3}, PSNR {report.Psnr:F1} dB, mean |residual| {report.MeanAbsResidual * 255:F2}/255");
        Assert.Equal(30, reports.Count);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss)));
        Assert.InRange(report.BitAccuracy, 0, 1);
        Assert.True(double.IsFinite(report.Psnr) && report.Psnr > 0);
        Assert.Throws<ArgumentException>(() => IssbaTrainer.Train(model, data, data, options with { Steps = -1 }));
    }

    [Fact]
    public void SaveAndLoad_RoundTrip_AndRefuseOtherFiles()
    {
        using var scope = NewDisposeScope();
        using var temp = new TempDirectory();
        using var model = new IssbaModel(Tiny);
        var path = Path.Combine(temp.Path, "issba.safetensors");
        model.Save(path);
        using var loaded = IssbaModel.Load(path);
        Assert.Equal(Tiny with { Seed = 0 }, loaded.Options);
        var images = TriggerTestImages.Noise(2, 32, 32);
        TensorAssert.BitIdentical(new IssbaTrigger(model).Apply(images), new IssbaTrigger(loaded).Apply(images), "loaded model");
        var other = Path.Combine(temp.Path, "other.safetensors");
        Rvpt.Clip.SafetensorsFile.Save(other, new Dictionary<string, Tensor> { ["x"] = zeros(2) });
        var e = Assert.Throws<InvalidDataException>(() => IssbaModel.Load(other));
        Assert.Contains(other, e.Message);
    }

    [Fact]
    public void Trigger_IsSampleSpecific_Deterministic_AndWorksAtOtherSizes()
    {
        using var scope = NewDisposeScope();
        using var model = new IssbaModel(Tiny);
        var trigger = new IssbaTrigger(model);
        Assert.Equal("ISSBA", trigger.Name);
        Assert.Null(trigger.TextKey);
        // "Stega!!" begins with 'S' = 0x53 = 01010011.
        Assert.Equal([0, 1, 0, 1, 0, 0, 1, 1], trigger.Secret);
        Assert.Equal([0, 1, 0, 0, 0, 0, 0, 1, 0, 0], IssbaTrigger.SecretFromText("A", 10));
        var images = TriggerTestImages.Noise(2, 32, 32);
        var a = trigger.Apply(images);
        TensorAssert.BitIdentical(a, trigger.Apply(images, seed: 9), "no dependence on the seed");
        var residual = a - images;
        Assert.True(TensorAssert.MaxAbsDiff(residual[0], residual[1]) > 1e-3, "each image gets its own residual");
        var large = trigger.Apply(TriggerTestImages.Noise(1, 64, 48));
        Assert.Equal(new long[] { 1, 3, 64, 48 }, large.shape);
        Assert.Throws<ArgumentException>(() => new IssbaTrigger(model, [1, 0]));
    }
}
