using BenchmarkDotNet.Attributes;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// The ViT-B/32 text tower (random weights) encoding class prompts ("a photo of a {}.") into zero-shot class
/// embeddings with <see cref="ZeroShotClassifier.Create"/>: tokenization, the text transformer in batches of 256,
/// normalisation and averaging. Needs CLIP's vocabulary (skipped without it).
/// </summary>
[Config(typeof(BenchmarkConfig))]
[BenchmarkCategory(BenchmarkConfig.NeedsVocabulary)]
public class TextEncodingBenchmarks
{
    private readonly NativeStats _stats = new();
    private ClipModel? _clip;
    private IReadOnlyList<string> _classes = [];
    private Device _device = CPU;

    /// <summary>Classes (one prompt each) per operation (100: 1000 take minutes on 2 cores, about 6 TFLOP).</summary>
    [Params(100)]
    public int Items { get; set; }

    /// <summary>Text tower dtype.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.DTypes))]
    public ScalarType DType { get; set; }

    /// <summary>Device (cuda only where available).</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>libtorch threads.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Threads))]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        _device = BenchParameters.ToDevice(Device);
        _clip = new ClipModelBuilder().WithConfig(ClipConfig.ViTB32).WithRandomWeights(0).OnDevice(_device).WithDType(DType)
            .WithTokenizerDirectory(BenchmarkFixtures.VocabularyDirectory()
                ?? throw new InvalidOperationException($"vocab.json/merges.txt not found in {BenchmarkFixtures.Searched()}"))
            .Build();
        _classes = ClassNameList.Create(Items);
        EncodeClassPrompts();
        _stats.AfterSetup();
    }

    /// <summary>Tokenize + text tower + normalise + average for <see cref="Items"/> classes x 1 template.</summary>
    [Benchmark]
    public long EncodeClassPrompts()
    {
        using var classifier = ZeroShotClassifier.Create(_clip!, _classes, PromptTemplates.APhotoOfA);
        BenchParameters.Synchronize(_device);
        return classifier.ClassEmbeddings.shape[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stats.BeforeCleanup();
        _clip?.Dispose();
    }
}
