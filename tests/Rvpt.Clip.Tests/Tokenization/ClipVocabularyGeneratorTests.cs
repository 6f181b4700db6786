using System.Text.Json;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>The generated vocabularies follow CLIP's format and tokenize their words to single tokens.</summary>
public sealed class ClipVocabularyGeneratorTests
{
    [Fact]
    public void WordsBecomeSingleTokensAndSpecialTokensAreLast()
    {
        using var temp = new TempDirectory();
        var tokenizer = ClipVocabularyGenerator.WriteTo(temp.Path, new[] { "photo", "of", "a", "star", "circle", "Star" });
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(temp.File("vocab.json")))!;
        Assert.Equal(vocab.Count - 2, tokenizer.SotTokenId);
        Assert.Equal(vocab.Count - 1, tokenizer.EotTokenId);
        var ids = tokenizer.Encode("a photo of a STAR.");
        Assert.Equal(8, ids.Count); // SOT a photo of a star . EOT
        Assert.Equal(vocab["star</w>"], ids[5]);
        Assert.Equal("a photo of a star .", tokenizer.Decode(ids));
        Assert.Equal(3, tokenizer.Encode("circle").Count);
        Assert.True(tokenizer.Encode("unknown words still work").Count > 5);
    }

    [SkippableFact]
    public void ByteSymbolsFollowOpenAIsOrder()
    {
        var (json, _) = ClipVocabularyGenerator.Generate(new[] { "x" });
        var generated = JsonSerializer.Deserialize<Dictionary<string, int>>(json)!;
        var real = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Fixtures.ClipTinyFile("vocab.json")))!;
        foreach (var (token, id) in generated.Where(p => p.Value < 512)) Assert.Equal(real[token], id);
    }

    [Fact]
    public void EveryWordIsOneTokenWhateverTheOrder()
    {
        // "a r" from "arrow" comes first and used to split "large" into l | ar | g | e.
        string[] words = { "arrow", "large", "a", "ring", "triangle", "rarer", "gargle", "star", "stars" };
        foreach (var order in new[] { words, words.Reverse().ToArray(), words.OrderBy(w => w, StringComparer.Ordinal).ToArray() })
        {
            using var temp = new TempDirectory();
            var tokenizer = ClipVocabularyGenerator.WriteTo(temp.Path, order);
            foreach (var w in words) Assert.True(3 == tokenizer.Encode(w).Count, $"'{w}' is not one token with order {string.Join(",", order)}");
        }
    }

    [Fact]
    public void WordsWithWhitespaceAreRejected() =>
        Assert.Throws<ArgumentException>(() => ClipVocabularyGenerator.Generate(new[] { "two words" }));
}
