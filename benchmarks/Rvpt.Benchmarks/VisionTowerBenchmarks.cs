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
public class VisionTowerBenchmarks : LibTorchBenchmark
{
    private ClipModel? _plain;
    private RvptStepHarness? _harness;
    private Tensor? _images;
    private ImageBatch? _batch;

    /// <summary>Images per operation.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Batches))]
    public int Batch { get; set; }

    [GlobalSetup(Target = nameof(Forward))]
    public void SetupForward()
    {
        ApplyThreadsAndDevice();
        _plain = ClipModel.Create(ClipConfig.ViTB32, seed: 0, device: TorchDevice, dtype: DType);
        using var g = new Generator(7, CPU);
        _images = randn(new long[] { Batch, 3, 224, 224 }, generator: g).to(DType, TorchDevice).DetachFromDisposeScope();
        Forward(); // the first call pays libtorch's one-time initialisation
        Stats.AfterSetup();
    }

    [GlobalSetup(Targets = new[] { nameof(PromptedForwardBackward), nameof(RvptStep) })]
    public void SetupStep()
    {
        ApplyThreadsAndDevice();
        _harness = new RvptStepHarness(TorchDevice, DType);
        _batch = _harness.RandomBatch(Batch);
        _harness.Step(_batch); // gradient and momentum buffer exist from here on
        Stats.AfterSetup();
    }

    /// <summary>Plain (unprompted) image features, no gradient.</summary>
    [Benchmark]
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _plain!.EncodeImage(_images!);
        BenchParameters.Synchronize(TorchDevice);
    }

    /// <summary>Shared trunk + prompted branch + CE, backward into the prompts.</summary>
    [Benchmark]
    public float PromptedForwardBackward() => _harness!.PromptedForwardBackward(_batch!);

    /// <summary>One full RVPT step, the trainer's own: checks, trunk, frozen branch, prompted branch, losses, backward, SGD.</summary>
    [Benchmark]
    public float RvptStep() => _harness!.Step(_batch!);

    [GlobalCleanup]
    public void Cleanup()
    {
        Stats.BeforeCleanup();
        _images?.Dispose();
        _batch?.Dispose();
        _plain?.Dispose();
        _harness?.Dispose();
    }
}
