using BenchmarkDotNet.Attributes;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// What every benchmark class that runs libtorch shares: the dtype, device and thread-count parameters, the native
/// statistics (<see cref="NativeStats"/>), and the per-process setup of threads and device.
/// </summary>
public abstract class LibTorchBenchmark
{
    /// <summary>Compute dtype.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.DTypes))]
    public ScalarType DType { get; set; }

    /// <summary>Device (cuda only where available).</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>libtorch threads.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Threads))]
    public int Threads { get; set; }

    /// <summary>Peak RSS and tensor counts of this benchmark process.</summary>
    protected NativeStats Stats { get; } = new();

    /// <summary>The device named by <see cref="Device"/>, once <see cref="ApplyThreadsAndDevice"/> has run.</summary>
    protected torch.Device TorchDevice { get; private set; } = CPU;

    /// <summary>Sets libtorch's thread count and resolves the device; call first in every [GlobalSetup].</summary>
    protected void ApplyThreadsAndDevice()
    {
        torch.set_num_threads(Threads);
        TorchDevice = BenchParameters.ToDevice(Device);
    }

    /// <summary>A random-weight ViT-B/32 in <see cref="DType"/> on <see cref="TorchDevice"/> with CLIP's real vocabulary.</summary>
    /// <exception cref="InvalidOperationException">vocab.json/merges.txt were not found.</exception>
    protected ClipModel CreateViTB32WithVocabulary() =>
        new ClipModelBuilder().WithConfig(ClipConfig.ViTB32).WithRandomWeights(0).OnDevice(TorchDevice).WithDType(DType)
            .WithTokenizerDirectory(BenchmarkFixtures.VocabularyDirectory()
                ?? throw new InvalidOperationException($"vocab.json/merges.txt not found in {BenchmarkFixtures.Searched()}"))
            .Build();
}
