using System.Text;
using System.Text.Json;

namespace Rvpt.Clip;

/// <summary>
/// Generates a small CLIP-format BPE vocabulary (Hugging Face <c>vocab.json</c> + <c>merges.txt</c>) for a closed set
/// of words: the 256 byte symbols and their <c>&lt;/w&gt;</c> forms in OpenAI's order, one merge chain per word (so
/// each listed word becomes a single token), then <c>&lt;|startoftext|&gt;</c> and <c>&lt;|endoftext|&gt;</c> as the
/// last two ids, as CLIP requires. Any other text still tokenizes, byte by byte.
/// </summary>
public static class ClipVocabularyGenerator
{
    /// <summary>Builds the two files' contents for <paramref name="words"/> (lower-cased, de-duplicated).</summary>
    /// <exception cref="ArgumentException">A word is empty or contains whitespace.</exception>
    public static (string VocabJson, string MergesTxt) Generate(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var vocab = new List<string>();
        foreach (var b in ByteLevelAlphabet.OpenAIByteOrder()) vocab.Add(ByteLevelAlphabet.ToChar(b).ToString());
        foreach (var b in ByteLevelAlphabet.OpenAIByteOrder()) vocab.Add(ByteLevelAlphabet.ToChar(b) + "</w>");
        var known = new HashSet<string>(vocab, StringComparer.Ordinal);
        var merges = new List<string>();
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var raw in words.Select(w => w.ToLowerInvariant()).Distinct(StringComparer.Ordinal))
        {
            if (raw.Length == 0 || raw.Any(char.IsWhiteSpace))
                throw new ArgumentException($"Vocabulary words must be non-empty and contain no whitespace, got '{raw}'.", nameof(words));
            var symbols = ByteLevelAlphabet.Encode(raw).Select(c => c.ToString()).ToList();
            symbols[^1] += "</w>";
            // Segment the word with the merges so far (earlier words' merges can apply inside it), then join the
            // resulting pieces left to right with new, lower-priority merges. Earlier words are unaffected: every merge
            // they use ranks before the new ones.
            var pieces = Segment(symbols, ranks);
            var current = pieces[0];
            for (int i = 1; i < pieces.Count; i++)
            {
                var merge = current + " " + pieces[i];
                current += pieces[i];
                if (ranks.TryAdd(merge, merges.Count)) merges.Add(merge);
                if (known.Add(current)) vocab.Add(current);
            }
        }
        vocab.Add("<|startoftext|>");
        vocab.Add("<|endoftext|>");
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocab.Count; i++) ids[vocab[i]] = i;
        var json = JsonSerializer.Serialize(ids, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var sb = new StringBuilder("#version: 0.2\n");
        foreach (var m in merges) sb.Append(m).Append('\n');
        return (json, sb.ToString());
    }

    /// <summary>Writes <c>vocab.json</c> and <c>merges.txt</c> into <paramref name="directory"/> (atomically) and loads them.</summary>
    public static ClipTokenizer WriteTo(string directory, IEnumerable<string> words, ClipTokenizerOptions? options = null)
    {
        var (vocab, merges) = Generate(words);
        AtomicFile.WriteAllText(Path.Combine(directory, "vocab.json"), vocab);
        AtomicFile.WriteAllText(Path.Combine(directory, "merges.txt"), merges);
        return ClipTokenizer.FromDirectory(directory, options);
    }

    /// <summary>CLIP's BPE: repeatedly merge every occurrence of the lowest-ranked adjacent pair.</summary>
    private static List<string> Segment(List<string> symbols, Dictionary<string, int> ranks)
    {
        var word = new List<string>(symbols);
        while (word.Count > 1)
        {
            int best = int.MaxValue;
            string? first = null, second = null;
            for (int i = 0; i + 1 < word.Count; i++)
            {
                if (ranks.TryGetValue(word[i] + " " + word[i + 1], out var r) && r < best)
                {
                    best = r;
                    first = word[i];
                    second = word[i + 1];
                }
            }
            if (first is null) break;
            var next = new List<string>(word.Count);
            for (int i = 0; i < word.Count; i++)
            {
                if (i + 1 < word.Count && word[i] == first && word[i + 1] == second)
                {
                    next.Add(first + second);
                    i++;
                }
                else next.Add(word[i]);
            }
            word = next;
        }
        return word;
    }
}
