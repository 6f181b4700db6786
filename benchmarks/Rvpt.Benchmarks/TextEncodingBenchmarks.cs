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
public class TextEncodingBenchmarks : LibTorchBenchmark
{
    private ClipModel? _clip;
    private IReadOnlyList<string> _classes = [];

    /// <summary>Classes (one prompt each) per operation (100: 1000 take minutes on 2 cores, about 6 TFLOP).</summary>
    [Params(100)]
    public int Items { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        ApplyThreadsAndDevice();
        _clip = CreateViTB32WithVocabulary();
        _classes = ClassNameList.Create(Items);
        EncodeClassPrompts();
        Stats.AfterSetup();
    }

    /// <summary>Tokenize + text tower + normalise + average for <see cref="Items"/> classes x 1 template.</summary>
    [Benchmark]
    public long EncodeClassPrompts()
    {
        using var classifier = ZeroShotClassifier.Create(_clip!, _classes, PromptTemplates.APhotoOfA);
        BenchParameters.Synchronize(TorchDevice);
        return classifier.ClassEmbeddings.shape[0];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Stats.BeforeCleanup();
        _clip?.Dispose();
    }
}
