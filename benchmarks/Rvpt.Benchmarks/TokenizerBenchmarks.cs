using BenchmarkDotNet.Attributes;
using Rvpt.Clip;

namespace Rvpt.Benchmarks;

/// <summary>
/// CLIP's BPE tokenizer with the real vocabulary (49,408 tokens), found as the tests find their fixtures
/// (RVPT_FIXTURES or ../shared/fixtures/clip-tiny); skipped without it. Class prompts "a photo of a {}.".
/// </summary>
[Config(typeof(BenchmarkConfig))]
[BenchmarkCategory(BenchmarkConfig.NeedsVocabulary)]
public class TokenizerBenchmarks
{
    private readonly NativeStats _stats = new();
    private ClipTokenizer? _tokenizer;
    private IReadOnlyList<string> _prompts = [];

    /// <summary>Prompts per operation.</summary>
    [Params(1000)]
    public int Items { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _tokenizer = ClipTokenizer.FromDirectory(BenchmarkFixtures.VocabularyDirectory()
            ?? throw new InvalidOperationException($"vocab.json/merges.txt not found in {BenchmarkFixtures.Searched()}"));
        _prompts = ClassNameList.Create(Items).Select(c => PromptTemplates.Format("a photo of a {}.", c)).ToArray();
        TokenizeBatch();
        _stats.AfterSetup();
    }

    /// <summary><c>Encode</c> of each prompt (BPE ids without padding).</summary>
    [Benchmark]
    public int TokenizeOneByOne()
    {
        int total = 0;
        foreach (var p in _prompts) total += _tokenizer!.Encode(p).Count;
        return total;
    }

    /// <summary><c>EncodeBatch</c>: all prompts to one <c>[N, 77]</c> int64 tensor.</summary>
    [Benchmark]
    public long TokenizeBatch()
    {
        using var ids = _tokenizer!.EncodeBatch(_prompts);
        return ids.shape[0];
    }

    [GlobalCleanup]
    public void Cleanup() => _stats.BeforeCleanup();
}
