using System.Diagnostics;
using System.Text;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>
/// Awkward text: empty and blank strings, very long strings, control characters, lone surrogates, right-to-left and
/// mixed-direction text, noncharacters. Each tokenizes deterministically to a valid row (start token, ids of the
/// vocabulary, end token, padding) — the same ids from a fresh tokenizer — or, for null, throws
/// <see cref="ArgumentNullException"/>.
/// </summary>
public sealed class ClipTokenizerBadInputTests
{
    private static readonly Lazy<ClipTokenizer> Shared = new(() => Load(textFixes: true));

    private static ClipTokenizer Load(bool textFixes) =>
        ClipTokenizer.FromFiles(Fixtures.ClipTinyFile("vocab.json"), Fixtures.ClipTinyFile("merges.txt"), new ClipTokenizerOptions { ApplyTextFixes = textFixes });

    /// <summary>Cases as code, not [InlineData]: test-case serialisation does not carry lone surrogates reliably.</summary>
    private static readonly (string Name, string Text)[] Awkward =
    [
        ("empty", ""),
        ("spaces", "   "),
        ("whitespace mix", "\t\r\n\u00A0\u2003\u3000\u2028\u2029"),
        ("C0 controls", "a\u0000b\u0001c\u0007d\u001Be\u007F"),
        ("C1 controls", "x\u0080y\u0085z\u009F"),
        ("zero-width", "zero\u200Bwidth\u200Cjoin\u200Dner\u2060\uFEFF"),
        ("bidi controls", "\u202Eevil\u202C \u2066isolate\u2069 \u200Fmark\u200E"),
        ("lone high surrogate", "lone \uD800 high"),
        ("lone low surrogate", "lone \uDC00 low"),
        ("reversed pair", "\uDE00\uD83D"),
        ("surrogate at end", "end \uD83D"),
        ("noncharacters", "\uFFFE\uFFFF\U0010FFFF"),
        ("private use", "\uE000\U000F0000"),
        ("Hebrew", "שלום עולם"),
        ("Arabic", "مرحبا بالعالم ١٢٣"),
        ("mixed direction", "a photo of a שלום cat مرحبا 42"),
        ("combining marks", "Z\u0351\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307a\u0308\u0309\u030A"),
        ("emoji sequences", "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽"),
        ("html entities", "&amp;amp;lt; &#0; &#xD800; &#1114112;"),
    ];

    [SkippableFact]
    public void AwkwardTextTokenizesDeterministicallyToAValidRow()
    {
        var tokenizer = Shared.Value;
        var fresh = Load(textFixes: true);
        var withoutFixes = Load(textFixes: false);
        foreach (var (name, text) in Awkward)
        {
            foreach (var t in new[] { tokenizer, withoutFixes })
            {
                var row = t.EncodeToContext(text);
                AssertValidRow(t, row, name);
                Assert.Equal(row, t.EncodeToContext(text));
                Assert.Equal(t.Encode(text), t.Encode(text));
            }
            Assert.True(fresh.EncodeToContext(text).SequenceEqual(tokenizer.EncodeToContext(text)), $"{name}: a fresh tokenizer gives other ids");
        }
    }

    [SkippableFact]
    public void EmptyAndBlankTextGiveStartEndAndPadding()
    {
        var tokenizer = Shared.Value;
        foreach (var text in new[] { "", " ", "\t\n", "\u3000\u00A0" })
        {
            var row = tokenizer.EncodeToContext(text);
            Assert.Equal([tokenizer.SotTokenId, tokenizer.EotTokenId], row.Take(2).Select(v => (int)v));
            Assert.All(row.Skip(2), v => Assert.Equal(0L, v));
            Assert.Equal("", tokenizer.Decode(row.Select(v => (int)v)));
        }
        // C0 controls are removed by the text fixes; a zero-width space is not whitespace (as in Python) and is kept.
        Assert.Equal([tokenizer.SotTokenId, tokenizer.EotTokenId], tokenizer.Encode("\u0000\u0001\u0007"));
        Assert.Equal(3, tokenizer.Encode("\u200B").Count);
    }

    /// <summary>Literal special-token text maps to the special ids, as in OpenAI's tokenizer; the row stays 77 long.</summary>
    [SkippableFact]
    public void SpecialTokenTextMapsToTheSpecialIds()
    {
        var tokenizer = Shared.Value;
        var ids = tokenizer.Encode("<|endoftext|> a <|startoftext|>");
        Assert.Equal(tokenizer.EotTokenId, ids[1]);
        Assert.Equal(tokenizer.SotTokenId, ids[^2]);
        Assert.Equal(77, tokenizer.EncodeToContext("<|endoftext|> a <|startoftext|>").Length);
    }

    [SkippableFact]
    public void LoneSurrogatesBecomeTheReplacementCharacter()
    {
        var tokenizer = Shared.Value;
        var replacement = tokenizer.Encode("lone \uFFFD high");
        Assert.Equal(replacement, tokenizer.Encode("lone \uD800 high"));
        Assert.Equal(replacement, Load(textFixes: false).Encode("lone \uD800 high"));
        Assert.Equal("lone \uFFFD high", tokenizer.Decode(tokenizer.Encode("lone \uDBFF high")));
    }

    [SkippableFact]
    public void RightToLeftTextKeepsLogicalOrderAndRoundTrips()
    {
        var tokenizer = Shared.Value;
        foreach (var text in new[] { "שלום עולם", "مرحبا بالعالم", "a photo of a שלום cat" })
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        // Direction marks are format characters, kept and encoded as bytes; they are not reordered or dropped.
        Assert.NotEqual(tokenizer.Encode("a b"), tokenizer.Encode("a \u200Fb"));
    }

    /// <summary>Megabyte-long texts of several shapes truncate to the context length, and keep the end token last.</summary>
    [SkippableFact]
    public void VeryLongTextIsTruncatedToTheContextLength()
    {
        var tokenizer = Shared.Value;
        string[] texts =
        [
            string.Concat(Enumerable.Repeat("a photo of a cat. ", 60_000)), // ~1 MB of words
            new string('x', 200_000), // one 200k-letter piece
            string.Concat(Enumerable.Repeat("1234567890", 20_000)), // every digit is a piece
            string.Concat(Enumerable.Repeat("!?", 100_000)), // one 200k-symbol punctuation piece
            string.Concat(Enumerable.Repeat("שלום ", 40_000)),
            string.Concat(Enumerable.Repeat("😀", 50_000)),
        ];
        foreach (var text in texts)
        {
            // No timing assertion (speed is checked by benchmarks, not unit tests); a tokenizer that went quadratic on
            // these ~1 MB inputs would show as a run of minutes.
            var row = tokenizer.EncodeToContext(text);
            Assert.Equal(77, row.Length);
            Assert.Equal(tokenizer.SotTokenId, row[0]);
            Assert.Equal(tokenizer.EotTokenId, row[^1]);
            Assert.Equal(1, row.Count(v => v == tokenizer.EotTokenId));
        }
        var strict = Assert.Throws<ArgumentException>(() => tokenizer.EncodeToContext(texts[0], truncate: false));
        Assert.Contains("more than the context length 77", strict.Message);
    }

    /// <summary>
    /// Truncating encodes only the part of the cleaned text that can reach the row (the first 76 pieces, a giant piece
    /// cut after a few thousand characters); the rows equal those cut from the full encoding.
    /// </summary>
    [SkippableFact]
    public void TruncatedRowsEqualRowsCutFromTheFullEncoding()
    {
        var tokenizer = Shared.Value;
        var random = new Random(8);
        string[] alphabets = ["abcdefghijklmnopqrstuvwxyz", "aeiou", "ab", "ab cd", "photo graph ", "12 ab!? ", "é ü ß ω я 日本 "];
        for (var trial = 0; trial < 42; trial++)
        {
            var alphabet = alphabets[trial % alphabets.Length];
            // Short texts near the row limit, and single pieces beyond the 4096-character cut.
            var chars = new char[trial < 21 ? random.Next(50, 400) : random.Next(4100, 9000)];
            for (var i = 0; i < chars.Length; i++)
                chars[i] = alphabet[random.Next(alphabet.Length)];
            var text = new string(chars);
            var full = tokenizer.Encode(text);
            var expected = new long[77];
            for (var i = 0; i < Math.Min(full.Count, 76); i++)
                expected[i] = full[i];
            expected[Math.Min(full.Count, 77) - 1] = tokenizer.EotTokenId;
            Assert.True(expected.SequenceEqual(tokenizer.EncodeToContext(text)), $"trial {trial}: {text.Length} chars of \"{alphabet}\"");
        }
    }

    [SkippableFact]
    public void NullIsRejected()
    {
        var tokenizer = Shared.Value;
        Assert.Throws<ArgumentNullException>(() => tokenizer.Encode(null!));
        Assert.Throws<ArgumentNullException>(() => tokenizer.EncodeToContext(null!));
        var e = Assert.Throws<ArgumentException>(() => tokenizer.EncodeBatch(["ok", null!]));
        Assert.Contains("Text 1 is null", e.Message);
    }

    /// <summary>Seeded random strings of arbitrary UTF-16 code units (surrogates and controls included): always a valid, repeatable row.</summary>
    [SkippableFact]
    public void RandomCodeUnitsAlwaysGiveAValidRow()
    {
        var tokenizer = Shared.Value;
        var random = new Random(31);
        for (var i = 0; i < 300; i++)
        {
            var chars = new char[random.Next(0, 120)];
            for (var k = 0; k < chars.Length; k++)
            {
                chars[k] = random.Next(4) switch
                {
                    0 => (char)random.Next(0, 0x80),
                    1 => (char)random.Next(0xD800, 0xE000),
                    2 => (char)random.Next(0x80, 0x3000),
                    _ => (char)random.Next(0, 0x10000),
                };
            }
            var text = new string(chars);
            var row = tokenizer.EncodeToContext(text);
            AssertValidRow(tokenizer, row, $"random case {i}");
            Assert.Equal(row, tokenizer.EncodeToContext(text));
        }
    }

    private static void AssertValidRow(ClipTokenizer tokenizer, long[] row, string name)
    {
        Assert.Equal(tokenizer.ContextLength, row.Length);
        Assert.True(row[0] == tokenizer.SotTokenId, $"{name}: row does not start with the start token");
        var end = Array.IndexOf(row, (long)tokenizer.EotTokenId);
        Assert.True(end > 0, $"{name}: no end token");
        Assert.True(row.Skip(end + 1).All(v => v == 0), $"{name}: not padded after the end token");
        Assert.True(row.Take(end).Skip(1).All(v => v >= 0 && v < tokenizer.SotTokenId), $"{name}: ids outside the vocabulary body");
        _ = Encoding.UTF8.GetByteCount(tokenizer.Decode(row.Select(v => (int)v)));
    }
}
