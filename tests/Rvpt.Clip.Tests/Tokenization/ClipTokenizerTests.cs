using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rvpt.Testing;
using TorchSharp;
using Xunit;

namespace Rvpt.Clip.Tests;

public sealed class ClipTokenizerTests : IDisposable
{
    private const int Sot = 49406;
    private const int Eot = 49407;

    private static readonly ConcurrentDictionary<bool, ClipTokenizer> RealTokenizers = new();
    private static readonly Lazy<GoldenFile> Golden = new(LoadGolden);

    private readonly string _tempDir = Path.Combine(Path.GetTempPath(), "rvpt-clip-tokenizer-" + Guid.NewGuid().ToString("N"));

    public ClipTokenizerTests() => Directory.CreateDirectory(_tempDir);

    public void Dispose() => Directory.Delete(_tempDir, recursive: true);

    // ---------------------------------------------------------------- golden cases (tokenizer_golden.json)

    [SkippableFact]
    public void Golden_AllIdsMatch_WithTextFixes()
    {
        var golden = Golden.Value;
        Assert.Equal(46, golden.Cases.Length);
        var tokenizer = Real(textFixes: true);
        Assert.Equal(golden.Sot, tokenizer.SotTokenId);
        Assert.Equal(golden.Eot, tokenizer.EotTokenId);

        AssertAllMatch(golden.Cases, c => c.Ids, c => tokenizer.Encode(c.Text));
    }

    [SkippableFact]
    public void Golden_TokenStringsMatch()
    {
        var tokenizer = Real(textFixes: true);
        var failures = new StringBuilder();
        foreach (var c in Golden.Value.Cases)
        {
            var actual = tokenizer.Tokenize(c.Text);
            if (!actual.SequenceEqual(c.Tokens))
                failures.AppendLine($"{Quote(c.Text)}: expected [{string.Join(' ', c.Tokens)}], got [{string.Join(' ', actual)}]");
        }
        Assert.True(failures.Length == 0, "Token strings differ:\n" + failures);
    }

    [SkippableFact]
    public void Golden_IdsMatchReferenceWithoutFtfy_WhenFixesAreOff()
    {
        var cases = Golden.Value.Cases;
        var sensitive = cases.Where(c => c.FtfySensitive).ToArray();
        Assert.Equal(4, sensitive.Length);
        // The without-ftfy ids must really differ, or this test could not tell the two modes apart.
        Assert.All(sensitive, c => Assert.NotEqual(c.Ids, c.IdsWithoutFtfy!));

        var tokenizer = Real(textFixes: false);
        AssertAllMatch(cases, c => c.FtfySensitive ? c.IdsWithoutFtfy! : c.Ids, c => tokenizer.Encode(c.Text));
    }

    [SkippableFact]
    public void Golden_NormalizeMatchesCleanedText()
    {
        var tokenizer = Real(textFixes: true);
        var failures = new StringBuilder();
        foreach (var c in Golden.Value.Cases)
        {
            var actual = tokenizer.Normalize(c.Text);
            if (actual != c.CleanedText)
                failures.AppendLine($"{Quote(c.Text)}: expected {Quote(c.CleanedText)}, got {Quote(actual)}");
            if (c.FtfyFixText is { } fixedText && ClipTextFixer.Fix(c.Text) != fixedText)
                failures.AppendLine($"{Quote(c.Text)}: ftfy gives {Quote(fixedText)}, the fixer gives {Quote(ClipTextFixer.Fix(c.Text))}");
        }
        Assert.True(failures.Length == 0, "Cleaned text differs:\n" + failures);
    }

    [SkippableFact]
    public void Golden_TruncatedRowsMatchClipTokenize()
    {
        var tokenizer = Real(textFixes: true);
        var longCases = Golden.Value.Cases.Where(c => c.IdsTruncated77 is not null).ToArray();
        Assert.NotEmpty(longCases);

        foreach (var c in longCases)
        {
            Assert.True(c.Ids.Length > 77);
            var row = tokenizer.EncodeToContext(c.Text);
            Assert.Equal(c.IdsTruncated77!, row);
            Assert.Equal(Eot, row[76]);
            Assert.Equal(c.Ids.Take(76).Select(id => (long)id), row.Take(76));

            using var batch = tokenizer.EncodeBatch(["a photo of a cat.", c.Text]);
            Assert.Equal(c.IdsTruncated77!, batch[1].data<long>().ToArray());
        }
    }

    [SkippableFact]
    public void RealVocabulary_ReportsSpecialIdsAndSizes()
    {
        var tokenizer = Real(textFixes: true);
        Assert.Equal(Sot, tokenizer.SotTokenId);
        Assert.Equal(Eot, tokenizer.EotTokenId);
        Assert.Equal(49408, tokenizer.VocabularySize);
        Assert.Equal(77, tokenizer.ContextLength);
        Assert.Equal(new ClipTokenizerOptions(), tokenizer.Options);
    }

    // ---------------------------------------------------------------- rows, batches, truncation

    [SkippableFact]
    public void EncodeToContext_PadsWithZerosTo77()
    {
        var tokenizer = Real(textFixes: true);
        var ids = tokenizer.Encode("a photo of a cat.");
        var row = tokenizer.EncodeToContext("a photo of a cat.");

        Assert.Equal(77, row.Length);
        Assert.Equal(ids.Select(id => (long)id), row.Take(ids.Count));
        Assert.All(row.Skip(ids.Count), id => Assert.Equal(0L, id));
        Assert.Equal(Sot, row[0]);
        Assert.Equal(Eot, row[ids.Count - 1]);
    }

    [SkippableFact]
    public void EncodeToContext_HonoursPadIdAndContextLength()
    {
        var options = new ClipTokenizerOptions { PadId = 7, ContextLength = 16 };
        var tokenizer = ClipTokenizer.FromFiles(Fixtures.ClipTinyFile("vocab.json"), Fixtures.ClipTinyFile("merges.txt"), options);
        var ids = tokenizer.Encode("a cat");

        var row = tokenizer.EncodeToContext("a cat");
        Assert.Equal(16, row.Length);
        Assert.Equal(ids.Select(id => (long)id).Concat(Enumerable.Repeat(7L, 16 - ids.Count)), row);

        var shorter = tokenizer.EncodeToContext("a cat", contextLength: 5);
        Assert.Equal(ids.Select(id => (long)id).Append(7L), shorter);
    }

    [SkippableFact]
    public void EncodeBatch_IsInt64NByContextWithOneRowPerText()
    {
        var tokenizer = Real(textFixes: true);
        string[] texts = ["a photo of a cat.", "", "A photo of a BANANA!"];

        using var batch = tokenizer.EncodeBatch(texts);

        Assert.Equal(torch.ScalarType.Int64, batch.dtype);
        Assert.Equal(new long[] { 3, 77 }, batch.shape);
        Assert.Equal(DeviceType.CPU, batch.device_type);
        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(tokenizer.EncodeToContext(texts[i]), batch[i].data<long>().ToArray());
        Assert.Equal(new long[] { Sot, Eot, 0 }, batch[1].data<long>().ToArray().Take(3));
    }

    [SkippableFact]
    public void EncodeBatch_EmptyBatchAndCustomContextLength()
    {
        var tokenizer = Real(textFixes: true);

        using var empty = tokenizer.EncodeBatch([]);
        Assert.Equal(new long[] { 0, 77 }, empty.shape);

        using var short8 = tokenizer.EncodeBatch(["a photo of a very very very very long cat"], contextLength: 8);
        Assert.Equal(new long[] { 1, 8 }, short8.shape);
        Assert.Equal(Eot, short8[0, 7].item<long>());
    }

    [SkippableFact]
    public void EncodeBatch_WithoutTruncation_RejectsTooLongTextNamingIt()
    {
        var tokenizer = Real(textFixes: true);
        var longText = string.Join(' ', Enumerable.Repeat("cat", 80));

        var ex = Assert.Throws<ArgumentException>(() => tokenizer.EncodeBatch(["a dog", longText], truncate: false));

        Assert.Contains("Text 1", ex.Message);
        Assert.Contains("82 tokens", ex.Message);
        Assert.Contains("context length 77", ex.Message);
    }

    [SkippableFact]
    public void TruncateOption_IsTheDefaultAndCanBeOverriddenPerCall()
    {
        var strict = ClipTokenizer.FromFiles(Fixtures.ClipTinyFile("vocab.json"), Fixtures.ClipTinyFile("merges.txt"), new ClipTokenizerOptions { Truncate = false });
        var longText = string.Join(' ', Enumerable.Repeat("cat", 80));

        var ex = Assert.Throws<ArgumentException>(() => strict.EncodeToContext(longText));
        Assert.Contains("82 tokens", ex.Message);

        var row = strict.EncodeToContext(longText, truncate: true);
        Assert.Equal(Eot, row[76]);
        Assert.Equal(Real(textFixes: true).EncodeToContext(longText), row);
        Assert.Equal(82, strict.Encode(longText).Count);
    }

    // ---------------------------------------------------------------- decoding

    [SkippableTheory]
    [InlineData("a photo of a cat")]
    [InlineData("A Photo Of A  BANANA")]
    [InlineData("the quick brown fox jumps over the lazy dog")]
    [InlineData("supercalifragilisticexpialidocious and pneumonoultramicroscopicsilicovolcanoconiosis")]
    [InlineData("  tomato \t ketchup\n on toast  ")]
    public void Decode_RoundTripsPlainAsciiSentences(string text)
    {
        var tokenizer = Real(textFixes: true);

        Assert.Equal(tokenizer.Normalize(text), tokenizer.Decode(tokenizer.Encode(text)));
        Assert.Equal(tokenizer.Normalize(text), tokenizer.Decode(tokenizer.EncodeToContext(text).Select(id => (int)id)));
    }

    [SkippableFact]
    public void Decode_RestoresUtf8AndSpacesOnlyBetweenPieces()
    {
        var tokenizer = Real(textFixes: true);

        Assert.Equal("café naïve résumé", tokenizer.Decode(tokenizer.Encode("Café naïve résumé")));
        Assert.Equal("i love 🍕 and 🎉!", tokenizer.Decode(tokenizer.Encode("I love 🍕 and 🎉!")));
        Assert.Equal("it 's a dog 's life", tokenizer.Decode(tokenizer.Encode("it's a dog's life")));
    }

    [SkippableFact]
    public void Decode_RejectsIdsOutsideTheVocabulary()
    {
        var tokenizer = Real(textFixes: true);

        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([Sot, 49408, Eot]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }

    // ---------------------------------------------------------------- concurrency and arguments

    [SkippableFact]
    public void Encode_IsSafeFromManyThreads()
    {
        var texts = Golden.Value.Cases.Select(c => c.Text).ToArray();
        // A fresh tokenizer, so that the BPE cache is filled concurrently.
        var tokenizer = ClipTokenizer.FromFiles(Fixtures.ClipTinyFile("vocab.json"), Fixtures.ClipTinyFile("merges.txt"));
        var expected = texts.Select(t => Real(textFixes: true).Encode(t)).ToArray();

        var failures = 0;
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var k = i % texts.Length;
            if (!tokenizer.Encode(texts[k]).SequenceEqual(expected[k]))
                Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
    }

    [SkippableFact]
    public void Methods_RejectNullArguments()
    {
        var tokenizer = Real(textFixes: true);

        Assert.Throws<ArgumentNullException>(() => tokenizer.Encode(null!));
        Assert.Throws<ArgumentNullException>(() => tokenizer.EncodeToContext(null!));
        Assert.Throws<ArgumentNullException>(() => tokenizer.Decode(null!));
        Assert.Throws<ArgumentException>(() => tokenizer.EncodeBatch(["ok", null!]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.EncodeToContext("a", contextLength: 1));
    }

    // ---------------------------------------------------------------- loading and file errors

    [Fact]
    public void FromFiles_MissingFiles_ThrowFileNotFoundNamingThePath()
    {
        var (vocab, merges) = WriteTinyVocabulary();
        var missing = Path.Combine(_tempDir, "nope.json");

        var ex1 = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFiles(missing, merges));
        Assert.Equal(missing, ex1.FileName);
        Assert.Contains(missing, ex1.Message);

        var ex2 = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFiles(vocab, missing));
        Assert.Contains(missing, ex2.Message);

        Assert.Throws<DirectoryNotFoundException>(() => ClipTokenizer.FromDirectory(Path.Combine(_tempDir, "none")));
        File.Delete(merges);
        var ex3 = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromDirectory(_tempDir));
        Assert.Contains("merges.txt", ex3.Message);
    }

    [Theory]
    [InlineData("{\n\"a\": 0,\n\"b\": ", "line 3", "invalid JSON")]
    [InlineData("[\"a\", \"b\"]", "line 1", "expected a JSON object")]
    [InlineData("{\n\"a\": 0,\n\"b\": \"one\"\n}", "line 3", "\"b\"")]
    [InlineData("{\n\"a\": 0,\n\"b\": 1.5\n}", "line 3", "non-negative integer")]
    [InlineData("{\n\"a\": 0,\n\"a\": 1\n}", "line 3", "appears twice")]
    [InlineData("{\n\"a\": 0,\n\"b\": 5\n}", "line 3", "out of range")]
    [InlineData("{\n\"a\": 0,\n\"b\": 0\n}", "line 3", "used by both")]
    [InlineData("{}", "vocab.json", "empty")]
    [InlineData("{\"a\": 0, \"<|endoftext|>\": 1}", "vocab.json", "\"<|startoftext|>\" is missing")]
    [InlineData("{\"<|startoftext|>\": 0, \"<|endoftext|>\": 1, \"a\": 2}", "vocab.json", "last two ids")]
    public void FromFiles_MalformedVocabulary_ThrowsInvalidDataNamingFileAndProblem(string json, string where, string problem)
    {
        var (_, merges) = WriteTinyVocabulary();
        var vocab = Path.Combine(_tempDir, "bad-vocab.json");
        File.WriteAllText(vocab, json);

        var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFiles(vocab, merges));

        Assert.Contains("bad-vocab.json", ex.Message);
        Assert.Contains(where, ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Theory]
    [InlineData("#version: 0.2\na b\nab\n", "line 3", "two symbols separated by one space")]
    [InlineData("#version: 0.2\na b\nab  c</w>\n", "line 3", "two symbols separated by one space")]
    [InlineData("#version: 0.2\na b\nab x\n", "line 3", "\"x\"")]
    [InlineData("#version: 0.2\na b\nb a\n", "line 3", "\"ba\"")]
    [InlineData("#version: 0.2\na b\na b\n", "line 3", "repeats line 2")]
    [InlineData("a b\n#version: 0.2\n", "line 2", "\"#version:\" (from merge")]
    public void FromFiles_MalformedMerges_ThrowsInvalidDataNamingFileAndLine(string text, string line, string problem)
    {
        var (vocab, _) = WriteTinyVocabulary();
        var merges = Path.Combine(_tempDir, "bad-merges.txt");
        File.WriteAllText(merges, text);

        var ex = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFiles(vocab, merges));

        Assert.Contains("bad-merges.txt", ex.Message);
        Assert.Contains(line, ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void Options_AreValidated()
    {
        var (vocab, merges) = WriteTinyVocabulary();

        Assert.Throws<ArgumentException>(() => ClipTokenizer.FromFiles(vocab, merges, new ClipTokenizerOptions { ContextLength = 1 }));
        Assert.Throws<ArgumentException>(() => ClipTokenizer.FromFiles(vocab, merges, new ClipTokenizerOptions { PadId = -1 }));
        Assert.Throws<ArgumentException>(() => ClipTokenizer.FromFiles(vocab, merges, new ClipTokenizerOptions { PadId = 10 }));
    }

    // ---------------------------------------------------------------- hand-made vocabularies

    [Fact]
    public void TinyVocabulary_TakesSpecialIdsFromTheFiles()
    {
        var (vocab, merges) = WriteTinyVocabulary();
        var tokenizer = ClipTokenizer.FromFiles(vocab, merges);

        Assert.Equal(8, tokenizer.SotTokenId);
        Assert.Equal(9, tokenizer.EotTokenId);
        Assert.Equal(10, tokenizer.VocabularySize);
        Assert.Equal(new[] { 8, 7, 9 }, tokenizer.Encode("ABC"));
        Assert.Equal(new[] { 8, 2, 0, 4, 9 }, tokenizer.Encode("cab"));                 // "a b</w>" is not a merge
        Assert.Equal(new[] { 8, 7, 1, 3, 8, 9, 9 }, tokenizer.Encode(" abc  ba<|startoftext|><|endoftext|>"));
        Assert.Equal(new[] { "<|startoftext|>", "abc</w>", "b", "a</w>", "<|endoftext|>" }, tokenizer.Tokenize("abc ba"));
        Assert.Equal("abc ba", tokenizer.Decode([8, 7, 1, 3, 9, 0, 0]));
        Assert.Equal(new long[] { 8, 7, 1, 9 }, tokenizer.EncodeToContext("abc ba", contextLength: 4));
        Assert.Equal(new long[] { 8, 7, 9, 0, 0 }, tokenizer.EncodeToContext("abc", contextLength: 5));
    }

    [Fact]
    public void TinyVocabulary_RefusesTextItCannotRepresent()
    {
        var (vocab, merges) = WriteTinyVocabulary();
        var tokenizer = ClipTokenizer.FromDirectory(_tempDir);

        var ex = Assert.Throws<ArgumentException>(() => tokenizer.Encode("abd"));
        Assert.Contains("\"d</w>\"", ex.Message);
        Assert.Throws<ArgumentException>(() => tokenizer.Encode("ca!"));
        Assert.Equal(new[] { 8, 7, 9 }, tokenizer.Encode("abc"));

        using var vocabStream = File.OpenRead(vocab);
        using var mergesStream = File.OpenRead(merges);
        Assert.Equal(new[] { 8, 6, 4, 9 }, ClipTokenizer.FromStreams(vocabStream, mergesStream).Encode("abb"));
    }

    [Fact]
    public void GeneratedVocabulary_WithAllByteSymbols_EncodesAnyText()
    {
        // The layout OpenAI's vocabulary uses: 256 byte symbols, the same with </w>, one token per merge, SOT, EOT.
        var tokens = new List<string>();
        for (var b = 0; b < 256; b++)
            tokens.Add(ByteLevelAlphabet.ToChar((byte)b).ToString());
        tokens.AddRange(tokens.Select(t => t + "</w>").ToList());
        tokens.Add("hi</w>");
        tokens.Add("<|startoftext|>");
        tokens.Add("<|endoftext|>");
        var vocab = Path.Combine(_tempDir, "gen-vocab.json");
        var merges = Path.Combine(_tempDir, "gen-merges.txt");
        File.WriteAllText(vocab, JsonSerializer.Serialize(tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i)));
        File.WriteAllText(merges, "#version: 0.2\nh i</w>\n");

        var tokenizer = ClipTokenizer.FromFiles(vocab, merges);

        Assert.Equal(515, tokenizer.VocabularySize);
        Assert.Equal((513, 514), (tokenizer.SotTokenId, tokenizer.EotTokenId));
        Assert.Equal(new[] { 513, 512, 256 + '!', 514 }, tokenizer.Encode("Hi!"));
        var ids = tokenizer.Encode("日本 ok");
        Assert.Equal(3 * 2 + 2 + 2, ids.Count);                              // 6 UTF-8 bytes, "o", "k</w>", SOT, EOT
        Assert.Equal("日本 ok", tokenizer.Decode(ids));
    }

    // ---------------------------------------------------------------- Python text semantics (expected values from CPython 3.11)

    [Theory]
    [InlineData("\u0130stanbul", "i\u0307stanbul")]
    [InlineData("\u0130STANBUL", "i\u0307stanbul")]
    [InlineData("\u039F\u0394\u039F\u03A3", "\u03BF\u03B4\u03BF\u03C2")]
    [InlineData("\u03A3\u0391\u03A3 \u03A3\u039F\u03A6\u039F\u03A3.", "\u03C3\u03B1\u03C2 \u03C3\u03BF\u03C6\u03BF\u03C2.")]
    [InlineData("\u03A3", "\u03C3")]
    [InlineData("\u0391\u03A3'\u03A3", "\u03B1\u03C3'\u03C2")]
    [InlineData("\u0391\u03A3\u0301", "\u03B1\u03C2\u0301")]
    [InlineData("A\u00AD\u03A3 b", "a\u00AD\u03C2 b")]
    [InlineData("\u03A3a", "\u03C3a")]
    [InlineData("StraSSe \u00C9T\u00C9", "strasse \u00E9t\u00E9")]
    public void PythonLower_MatchesCPython(string text, string expected) => Assert.Equal(expected, PythonText.ToLower(text));

    [Theory]
    [InlineData("fish &amp;amp; chips", "fish &amp; chips")]
    [InlineData("AT&T", "AT&T")]
    [InlineData("&amp", "&")]
    [InlineData("&ampx", "&x")]
    [InlineData("&notit;", "\u00ACit;")]
    [InlineData("&copy 2024", "\u00A9 2024")]
    [InlineData("&#150;", "\u2013")]
    [InlineData("&#x2019;", "\u2019")]
    [InlineData("&#0;", "\uFFFD")]
    [InlineData("&#1;", "")]
    [InlineData("&#xD800;", "\uFFFD")]
    [InlineData("&#x110000;", "\uFFFD")]
    [InlineData("&#99999999999999999999;", "\uFFFD")]
    [InlineData("&#65", "A")]
    [InlineData("&#13;", "\r")]
    [InlineData("&#xFFFF;", "")]
    [InlineData("&AMP;", "&")]
    [InlineData("&lang;", "\u27E8")]
    [InlineData("&bigstar;", "\u2605")]
    [InlineData("&#x1F600;", "\U0001F600")]
    [InlineData("&nosuch;", "&nosuch;")]
    [InlineData("&eacute &Eacute;", "\u00E9 \u00C9")]
    public void PythonHtmlUnescape_MatchesCPython(string text, string expected) => Assert.Equal(expected, PythonHtml.Unescape(text));

    [Theory]
    [InlineData("cafe\u0301", "caf\u00E9")]
    [InlineData("\u201Csmart\u201D \u2018quotes\u2019 \u02BCn", "\"smart\" 'quotes' 'n")]
    [InlineData("\uFB02u\uFB03e\uFB06", "fluffiest")]
    [InlineData("\uFF2C\uFF2F\uFF35\uFF24\u3000\uFF2E\uFF2F\uFF29\uFF33\uFF25\uFF33", "LOUD NOISES")]
    [InlineData("\uFF35\uFF80\uFF70\uFF9D", "U\u30BF\u30FC\u30F3")]
    [InlineData("\u0001\u001B[36;44mI&#x92;m blue&#133;\u001B[0m", "I'm blue\u2026")]
    [InlineData("don&rsquo;t &amp;amp;amp;", "don't &")]
    [InlineData("<em>HTML &lt;3</em>", "<em>HTML &lt;3</em>")]
    [InlineData("&lt;3\n<b>&lt;3</b>", "<3\n<b>&lt;3</b>")]
    [InlineData("\uFEFFbom\u0093q\u0094 \r\n", "bom\"q\" \n")]
    [InlineData("plain ascii stays", "plain ascii stays")]
    public void TextFixer_AppliesTheFtfySubset(string text, string expected) => Assert.Equal(expected, ClipTextFixer.Fix(text));

    [Fact]
    public void TextFixer_HandlesUnpairedSurrogatesAndNoncharacters()
    {
        // Kept out of [InlineData]: test-case serialisation does not carry unpaired surrogates reliably.
        Assert.Equal("lone \uFFFD surrogate \U0001F600 \uFFFD", ClipTextFixer.Fix("lone \uD800 surrogate \uD83D\uDE00 \uDC00"));
        Assert.Equal("\uFFFDa", new ClipTextNormalizer(applyTextFixes: false).Normalize("\uDBFFA"));
        // ICU's NFC rejects the noncharacter U+FFFE; Python keeps it and still composes around it.
        Assert.Equal("\u00E9\uFFFE\u00E9", ClipTextFixer.Fix("e\u0301\uFFFEe\u0301"));
    }

    [Theory]
    [InlineData(true, "don&rsquo;t", "don't")]
    [InlineData(false, "don&rsquo;t", "don\u2019t")]
    [InlineData(true, "&amp;amp;amp;", "&")]
    [InlineData(false, "&amp;amp;amp;", "&amp;")]
    [InlineData(false, " a\u001Cb\u00A0\u3000c\u2028 ", "a b c")]
    [InlineData(true, "a\u000Bb", "ab")]
    [InlineData(false, "a\u000Bb", "a b")]
    public void Normalizer_CombinesFixesHtmlWhitespaceAndLowerCase(bool fixes, string text, string expected) =>
        Assert.Equal(expected, new ClipTextNormalizer(fixes).Normalize(text));

    // ---------------------------------------------------------------- helpers

    private static ClipTokenizer Real(bool textFixes)
    {
        var vocab = Fixtures.ClipTinyFile("vocab.json");
        var merges = Fixtures.ClipTinyFile("merges.txt");
        return RealTokenizers.GetOrAdd(textFixes, fixes => ClipTokenizer.FromFiles(vocab, merges, new ClipTokenizerOptions { ApplyTextFixes = fixes }));
    }

    // vocab: a b c a</w> b</w> c</w> ab abc</w> SOT EOT; merges: "a b", "ab c</w>".
    private (string Vocab, string Merges) WriteTinyVocabulary()
    {
        var vocab = Path.Combine(_tempDir, "vocab.json");
        var merges = Path.Combine(_tempDir, "merges.txt");
        File.WriteAllText(vocab,
            """{"a": 0, "b": 1, "c": 2, "a</w>": 3, "b</w>": 4, "c</w>": 5, "ab": 6, "abc</w>": 7, "<|startoftext|>": 8, "<|endoftext|>": 9}""");
        File.WriteAllText(merges, "#version: 0.2\na b\nab c</w>\n");
        return (vocab, merges);
    }

    private static void AssertAllMatch(IEnumerable<GoldenCase> cases, Func<GoldenCase, int[]> expected, Func<GoldenCase, IReadOnlyList<int>> actual)
    {
        var failures = new StringBuilder();
        foreach (var c in cases)
        {
            var want = expected(c);
            var got = actual(c);
            if (!got.SequenceEqual(want))
                failures.AppendLine($"{Quote(c.Text)}:\n  expected [{string.Join(", ", want)}]\n  actual   [{string.Join(", ", got)}]");
        }
        Assert.True(failures.Length == 0, "Ids differ:\n" + failures);
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    private static GoldenFile LoadGolden()
    {
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<GoldenFile>(File.ReadAllText(Fixtures.ClipTinyFile("tokenizer_golden.json")), options)
            ?? throw new InvalidDataException("tokenizer_golden.json is empty.");
    }

    private sealed record GoldenFile(int Sot, int Eot, GoldenCase[] Cases);

    private sealed record GoldenCase(
        string Text,
        int[] Ids,
        string[] Tokens,
        string CleanedText,
        bool FtfySensitive,
        int[]? IdsWithoutFtfy,
        string? FtfyFixText,
        [property: JsonPropertyName("ids_truncated_77")] long[]? IdsTruncated77);
}
