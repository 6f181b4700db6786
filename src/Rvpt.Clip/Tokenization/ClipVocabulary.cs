using System.Text;
using System.Text.Json;

namespace Rvpt.Clip;

/// <summary>
/// A validated CLIP BPE vocabulary in Hugging Face format: <c>vocab.json</c> (token -> id) and <c>merges.txt</c>
/// (an optional <c>#version</c> line, then one "left right" merge per line, rank = line order).
/// </summary>
/// <remarks>
/// Checks what the tokenizer relies on, so that a broken file fails at load time with the file and line named:
/// ids are exactly 0..N-1, every merge's parts and result are tokens, and <c>&lt;|startoftext|&gt;</c> and
/// <c>&lt;|endoftext|&gt;</c> are the last two ids (as in OpenAI's vocabulary and in generated ones).
/// </remarks>
internal sealed class ClipVocabulary
{
    /// <summary>The start-of-text token.</summary>
    public const string StartOfText = "<|startoftext|>";

    /// <summary>The end-of-text token.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>The end-of-word marker appended to the last symbol of each piece.</summary>
    public const string EndOfWord = "</w>";

    private ClipVocabulary(Dictionary<string, int> ids, string[] tokens, List<string> merges)
    {
        Ids = ids;
        Tokens = tokens;
        Merges = merges;
        SotId = ids[StartOfText];
        EotId = ids[EndOfText];
        MissingSymbols = FindMissingSymbols(ids);
    }

    /// <summary>Token -> id.</summary>
    public IReadOnlyDictionary<string, int> Ids { get; }

    /// <summary>Id -> token.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The merges as "left right" lines, in rank order.</summary>
    public IReadOnlyList<string> Merges { get; }

    /// <summary>Id of <see cref="StartOfText"/>.</summary>
    public int SotId { get; }

    /// <summary>Id of <see cref="EndOfText"/>.</summary>
    public int EotId { get; }

    /// <summary>
    /// Byte-level base symbols (a byte symbol, or a byte symbol + <see cref="EndOfWord"/>) that are not tokens.
    /// Empty for OpenAI's vocabulary; a generated vocabulary may omit bytes it never needs.
    /// </summary>
    public IReadOnlySet<string> MissingSymbols { get; }

    /// <summary>Name of the embedded resource holding the bundled vocabulary's merges (gzip).</summary>
    internal const string BundledResource = "Rvpt.Clip.clip-bpe-49408.txt.gz";

    // Parsed once per process on first use; immutable afterwards (a cache, not state).
    private static readonly Lazy<ClipVocabulary> Bundled = new(LoadBundled, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>OpenAI CLIP's 49,408-token vocabulary, bundled in this assembly (see Tokenization/Resources/README.md).</summary>
    public static ClipVocabulary BundledVocabulary => Bundled.Value;

    private static ClipVocabulary LoadBundled()
    {
        using var resource = typeof(ClipVocabulary).Assembly.GetManifestResourceStream(BundledResource)
                             ?? throw new InvalidOperationException($"The embedded resource {BundledResource} is missing from {typeof(ClipVocabulary).Assembly.GetName().Name}.");
        using var merges = new System.IO.Compression.GZipStream(resource, System.IO.Compression.CompressionMode.Decompress);
        return FromMerges(merges, BundledResource);
    }

    /// <summary>
    /// Builds the vocabulary from <c>merges.txt</c> alone, by CLIP's rule (openai/CLIP <c>clip/simple_tokenizer.py</c>):
    /// the 256 byte symbols in <c>bytes_to_unicode</c> order, the same with <c>&lt;/w&gt;</c>, one token per merge
    /// (its two parts joined), then <c>&lt;|startoftext|&gt;</c> and <c>&lt;|endoftext|&gt;</c>.
    /// </summary>
    public static ClipVocabulary FromMerges(Stream mergesTxt, string mergesName)
    {
        var tokens = new List<string>();
        foreach (var b in ByteLevelAlphabet.OpenAIByteOrder()) tokens.Add(ByteLevelAlphabet.ToChar(b).ToString());
        foreach (var b in ByteLevelAlphabet.OpenAIByteOrder()) tokens.Add(ByteLevelAlphabet.ToChar(b) + EndOfWord);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) ids[tokens[i]] = i;
        var text = new StreamReader(mergesTxt, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true).ReadToEnd();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var joined = line.Replace(" ", "", StringComparison.Ordinal);
            if (!ids.TryAdd(joined, tokens.Count))
                throw new InvalidDataException($"{mergesName} line {lineNumber}: merge \"{line}\" makes token \"{joined}\" a second time.");
            tokens.Add(joined);
        }
        ids[StartOfText] = tokens.Count;
        tokens.Add(StartOfText);
        ids[EndOfText] = tokens.Count;
        tokens.Add(EndOfText);
        using var merges = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return new ClipVocabulary(ids, tokens.ToArray(), ReadMerges(merges, mergesName, ids));
    }

    /// <summary>Writes <c>vocab.json</c> and <c>merges.txt</c> in Hugging Face form into <paramref name="directory"/>, atomically.</summary>
    public void WriteTo(string directory)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(Ids, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var m in Merges) merges.Append(m).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(directory, "vocab.json"), json);
        AtomicFile.WriteAllText(Path.Combine(directory, "merges.txt"), merges.ToString());
    }

    /// <summary>Reads and validates both files; the names are used in error messages.</summary>
    /// <exception cref="InvalidDataException">A file is malformed or inconsistent with the other.</exception>
    public static ClipVocabulary Load(Stream vocabJson, string vocabName, Stream mergesTxt, string mergesName)
    {
        var (ids, tokens) = ReadVocab(vocabJson, vocabName);
        var merges = ReadMerges(mergesTxt, mergesName, ids);
        return new ClipVocabulary(ids, tokens, merges);
    }

    private static (Dictionary<string, int> Ids, string[] Tokens) ReadVocab(Stream stream, string name)
    {
        var bytes = ReadAll(stream);
        ReadOnlySpan<byte> json = bytes;
        if (json.StartsWith("\uFEFF"u8))
            json = json[3..];

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        // Byte offsets, turned into line numbers only for an error message (vocab.json is often a single line).
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Invalid(name, json, reader.TokenStartIndex, "expected a JSON object mapping each token to its id");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var token = reader.GetString()!;
                var offset = reader.TokenStartIndex;
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var id) || id < 0)
                    throw Invalid(name, json, reader.TokenStartIndex, $"the id of token \"{token}\" must be a non-negative integer");
                if (!ids.TryAdd(token, id))
                    throw Invalid(name, json, offset, $"token \"{token}\" appears twice (first on line {LineOf(json, offsets[token])})");
                offsets[token] = offset;
            }
            if (reader.Read())
                throw Invalid(name, json, reader.TokenStartIndex, "unexpected content after the JSON object");
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" line {line + 1}" : string.Empty;
            throw new InvalidDataException($"{name}{where}: invalid JSON ({ex.Message}).", ex);
        }

        if (ids.Count == 0)
            throw new InvalidDataException($"{name}: the vocabulary is empty.");
        var tokens = new string[ids.Count];
        foreach (var (token, id) in ids)
        {
            if (id >= tokens.Length)
                throw Invalid(name, json, offsets[token], $"id {id} of token \"{token}\" is out of range; ids must be 0..{tokens.Length - 1} for {tokens.Length} tokens");
            if (tokens[id] is { } other)
                throw Invalid(name, json, offsets[token], $"id {id} is used by both \"{other}\" and \"{token}\"");
            tokens[id] = token;
        }

        RequireSpecial(ids, name, StartOfText, tokens.Length - 2);
        RequireSpecial(ids, name, EndOfText, tokens.Length - 1);
        return (ids, tokens);
    }

    private static void RequireSpecial(Dictionary<string, int> ids, string name, string token, int expectedId)
    {
        if (!ids.TryGetValue(token, out var id))
            throw new InvalidDataException($"{name}: the special token \"{token}\" is missing.");
        if (id != expectedId)
            throw new InvalidDataException($"{name}: \"{token}\" has id {id}; CLIP expects the start and end tokens to be the last two ids ({ids.Count - 2} and {ids.Count - 1}).");
    }

    private static List<string> ReadMerges(Stream stream, string name, Dictionary<string, int> ids)
    {
        var merges = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
                continue;

            var space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new InvalidDataException($"{name} line {lineNumber}: expected two symbols separated by one space, got \"{line}\".");
            var left = line[..space];
            var right = line[(space + 1)..];
            foreach (var part in new[] { left, right, left + right })
            {
                if (!ids.ContainsKey(part))
                    throw new InvalidDataException($"{name} line {lineNumber}: \"{part}\" (from merge \"{line}\") is not in the vocabulary.");
            }
            if (!seen.TryAdd(line, lineNumber))
                throw new InvalidDataException($"{name} line {lineNumber}: merge \"{line}\" repeats line {seen[line]}.");
            merges.Add(line);
        }
        return merges;
    }

    private static HashSet<string> FindMissingSymbols(Dictionary<string, int> ids)
    {
        var missing = new HashSet<string>(StringComparer.Ordinal);
        for (var b = 0; b < 256; b++)
        {
            var symbol = ByteLevelAlphabet.ToChar((byte)b).ToString();
            if (!ids.ContainsKey(symbol))
                missing.Add(symbol);
            if (!ids.ContainsKey(symbol + EndOfWord))
                missing.Add(symbol + EndOfWord);
        }
        return missing;
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static InvalidDataException Invalid(string name, ReadOnlySpan<byte> json, long offset, string problem) =>
        new($"{name} line {LineOf(json, offset)}: {problem}.");

    private static long LineOf(ReadOnlySpan<byte> json, long offset) =>
        json[..(int)Math.Min(offset, json.Length)].Count((byte)'\n') + 1;
}
