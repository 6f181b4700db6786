using BenchmarkDotNet.Attributes;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// Zero-shot evaluation throughput of a random-weight ViT-B/32 over 100 classes (the class count changes only a
/// [N, 512] x [512, classes] product; encoding 1000 class prompts in the setup would take minutes): the image tower, normalisation,
/// logits against the class embeddings and the arg-max (<see cref="ZeroShotClassifier.PredictIndices"/>), on
/// already-preprocessed batches; plain CLIP and CLIP with deep prompts (the defended model's evaluation path).
/// </summary>
[Config(typeof(BenchmarkConfig))]
[BenchmarkCategory(BenchmarkConfig.NeedsVocabulary)]
public class ZeroShotBenchmarks : LibTorchBenchmark
{
    private ClipModel? _clip;
    private DeepPromptInjector? _prompts;
    private ZeroShotClassifier? _plain;
    private ZeroShotClassifier? _prompted;
    private Tensor? _images;

    /// <summary>Images per operation.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Batches))]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ApplyThreadsAndDevice();
        _clip = CreateViTB32WithVocabulary();
        _prompts = DeepPromptInjector.For(_clip).FromBlock(3).Tokens(50).Build();
        var classes = ClassNameList.Create(100);
        _plain = ZeroShotClassifier.Create(_clip, classes);
        _prompted = ZeroShotClassifier.Create(_clip, classes, imageEncoder: _prompts.EncodeImage);
        using var g = new Generator(7, CPU);
        _images = randn(new long[] { Batch, 3, 224, 224 }, generator: g).to(DType, TorchDevice).DetachFromDisposeScope();
        Plain();
        Prompted();
        Stats.AfterSetup();
    }

    /// <summary>Top-1 class of each image with the original encoder.</summary>
    [Benchmark]
    public long Plain() => Predict(_plain!);

    /// <summary>Top-1 class of each image with the prompted encoder (D = 3, b = 50).</summary>
    [Benchmark]
    public long Prompted() => Predict(_prompted!);

    private long Predict(ZeroShotClassifier classifier)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var predicted = classifier.PredictIndices(_images!);
        BenchParameters.Synchronize(TorchDevice);
        return predicted.shape[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Stats.BeforeCleanup();
        _images?.Dispose();
        _plain?.Dispose();
        _prompted?.Dispose();
        _prompts?.Dispose();
        _clip?.Dispose();
    }
}
