using BenchmarkDotNet.Attributes;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// ViT-B/32 image tower with random weights (no download): plain forward, prompted forward + backward, and one full
/// RVPT step (<see cref="RvptStepHarness"/>). bfloat16 means: the forward runs a bfloat16 model; the prompted and step
/// benchmarks use the library's mixed precision (float32 model, bfloat16 compute copy, float32 prompts and loss).
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class VisionTowerBenchmarks
{
    private readonly NativeStats _stats = new();
    private ClipModel? _plain;
    private RvptStepHarness? _harness;
    private Tensor? _images;
    private Tensor? _labels;
    private Device _device = CPU;

    /// <summary>Images per operation.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Batches))]
    public int Batch { get; set; }

    /// <summary>Compute dtype.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.DTypes))]
    public ScalarType DType { get; set; }

    /// <summary>Device (cuda only where available).</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>libtorch threads.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Threads))]
    public int Threads { get; set; }

    [GlobalSetup(Target = nameof(Forward))]
    public void SetupForward()
    {
        Common();
        _plain = ClipModel.Create(ClipConfig.ViTB32, seed: 0, device: _device, dtype: DType);
        using var g = new Generator(7, CPU);
        _images = randn(new long[] { Batch, 3, 224, 224 }, generator: g).to(DType, _device).DetachFromDisposeScope();
        Forward(); // the first call pays libtorch's one-time initialisation
        _stats.AfterSetup();
    }

    [GlobalSetup(Targets = new[] { nameof(PromptedForwardBackward), nameof(RvptStep) })]
    public void SetupStep()
    {
        Common();
        _harness = new RvptStepHarness(_device, DType);
        (_images, _labels) = _harness.RandomBatch(Batch);
        _harness.Step(_images, _labels); // gradient and momentum buffer exist from here on
        _stats.AfterSetup();
    }

    private void Common()
    {
        torch.set_num_threads(Threads);
        _device = BenchParameters.ToDevice(Device);
    }

    /// <summary>Plain (unprompted) image features, no gradient.</summary>
    [Benchmark]
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _plain!.EncodeImage(_images!);
        BenchParameters.Synchronize(_device);
    }

    /// <summary>Shared trunk + prompted branch + CE, backward into the prompts.</summary>
    [Benchmark]
    public float PromptedForwardBackward() => _harness!.PromptedForwardBackward(_images!, _labels!);

    /// <summary>One full RVPT step: trunk, frozen branch, prompted branch, losses, backward, SGD.</summary>
    [Benchmark]
    public float RvptStep() => _harness!.Step(_images!, _labels!);

    [GlobalCleanup]
    public void Cleanup()
    {
        _stats.BeforeCleanup();
        _images?.Dispose();
        _labels?.Dispose();
        _plain?.Dispose();
        _harness?.Dispose();
    }
}
