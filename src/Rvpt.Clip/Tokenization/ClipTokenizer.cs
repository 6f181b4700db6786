using System.Text;
using Microsoft.ML.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// CLIP's byte-level BPE tokenizer, equivalent to OpenAI's <c>simple_tokenizer.SimpleTokenizer</c> and
/// <c>clip.tokenize</c>, read from Hugging Face style <c>vocab.json</c> and <c>merges.txt</c>.
/// </summary>
/// <remarks>
/// <para>Encoding: text is cleaned (<see cref="Normalize"/>), split into pieces by CLIP's pattern, and each piece's
/// UTF-8 bytes are BPE-encoded with <c>&lt;/w&gt;</c> marking the end of the piece; the ids are framed by the start
/// (<see cref="SotTokenId"/>) and end (<see cref="EotTokenId"/>) tokens. Literal <c>&lt;|startoftext|&gt;</c> /
/// <c>&lt;|endoftext|&gt;</c> in the text map to those ids, as in the reference.</para>
/// <para>Difference from the reference: only a subset of ftfy is applied (see
/// <see cref="ClipTokenizerOptions.ApplyTextFixes"/>); text that needs ftfy's mojibake repair (e.g. "cafÃ©") can
/// encode differently.</para>
/// <para>Instances are immutable and safe to use from several threads at once.</para>
/// <para>Any string is accepted: empty or blank text gives just the start and end tokens; control characters are
/// removed by the text fixes (or encoded as bytes without them); lone surrogates become U+FFFD; right-to-left text is
/// encoded in logical (stored) order with direction marks kept. Only <see langword="null"/> throws
/// (<see cref="ArgumentNullException"/>), and an over-long text when truncation is off (<see cref="ArgumentException"/>).
/// BPE takes time quadratic in the length of a single piece (a run of letters or symbols), as in the reference; the
/// truncating row methods therefore encode only the part of the text that can reach the row (see
/// <see cref="ClipTokenizerOptions.Truncate"/>), so a megabyte of text costs milliseconds there, whereas
/// <see cref="Encode"/> encodes everything.</para>
/// </remarks>
public sealed class ClipTokenizer
{
    private readonly ClipVocabulary _vocabulary;
    private readonly ClipTextNormalizer _normalizer;
    private readonly BpeTokenizer _bpe;
    private readonly int _longestTokenBytes;

    private ClipTokenizer(ClipVocabulary vocabulary, ClipTokenizerOptions options)
    {
        options.Validate();
        if (options.PadId >= vocabulary.Tokens.Count)
            throw new ArgumentException($"PadId {options.PadId} is not an id of the {vocabulary.Tokens.Count}-token vocabulary.");

        _vocabulary = vocabulary;
        _normalizer = new ClipTextNormalizer(options.ApplyTextFixes);
        Options = options;
        _bpe = BpeTokenizer.Create(new BpeOptions(vocabulary.Ids)
        {
            Merges = vocabulary.Merges,
            Normalizer = _normalizer,
            PreTokenizer = ClipPreTokenizer.Create(),
            // Pieces equal to these strings bypass BPE and map straight to their ids.
            SpecialTokens = new Dictionary<string, int>
            {
                [ClipVocabulary.StartOfText] = vocabulary.SotId,
                [ClipVocabulary.EndOfText] = vocabulary.EotId,
            },
            EndOfWordSuffix = ClipVocabulary.EndOfWord,
            ByteLevel = true,
        });
        // Byte-level symbols are one char per byte; the end-of-word marker adds none.
        _longestTokenBytes = vocabulary.Tokens
            .Where(t => t is not (ClipVocabulary.StartOfText or ClipVocabulary.EndOfText))
            .Select(t => t.EndsWith(ClipVocabulary.EndOfWord, StringComparison.Ordinal) ? t.Length - ClipVocabulary.EndOfWord.Length : t.Length)
            .DefaultIfEmpty(1)
            .Max();
    }

    /// <summary>The settings this tokenizer was created with.</summary>
    public ClipTokenizerOptions Options { get; }

    /// <summary>Id of <c>&lt;|startoftext|&gt;</c>, read from the vocabulary (49406 for OpenAI's).</summary>
    public int SotTokenId => _vocabulary.SotId;

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>, read from the vocabulary (49407 for OpenAI's).</summary>
    public int EotTokenId => _vocabulary.EotId;

    /// <summary>Number of tokens in the vocabulary (49408 for OpenAI's).</summary>
    public int VocabularySize => _vocabulary.Tokens.Count;

    /// <summary>Default row length of <see cref="EncodeToContext"/> and <see cref="EncodeBatch"/> (<see cref="ClipTokenizerOptions.ContextLength"/>).</summary>
    public int ContextLength => Options.ContextLength;

    /// <summary>Loads a tokenizer from <c>vocab.json</c> and <c>merges.txt</c>.</summary>
    /// <param name="vocabJsonPath">Path of the vocabulary (JSON object: token -> id).</param>
    /// <param name="mergesTxtPath">Path of the merges (optional <c>#version</c> line, then one "a b" merge per line).</param>
    /// <param name="options">Settings; null for the defaults of <c>clip.tokenize</c>.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed; the message names the file and line.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="ClipTokenizerOptions.ApplyTextFixes"/> is on in
    /// globalization-invariant mode, where Unicode normalisation is unavailable.</exception>
    public static ClipTokenizer FromFiles(string vocabJsonPath, string mergesTxtPath, ClipTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabJsonPath);
        ArgumentException.ThrowIfNullOrEmpty(mergesTxtPath);
        RequireFile(vocabJsonPath, "vocabulary");
        RequireFile(mergesTxtPath, "merges");
        using var vocab = File.OpenRead(vocabJsonPath);
        using var merges = File.OpenRead(mergesTxtPath);
        return new ClipTokenizer(ClipVocabulary.Load(vocab, vocabJsonPath, merges, mergesTxtPath), options ?? new ClipTokenizerOptions());
    }

    /// <summary>Loads a tokenizer from the <c>vocab.json</c> and <c>merges.txt</c> in <paramref name="directory"/>.</summary>
    /// <param name="directory">Folder holding both files (for example a Hugging Face CLIP checkpoint folder).</param>
    /// <param name="options">Settings; null for the defaults of <c>clip.tokenize</c>.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed; the message names the file and line.</exception>
    public static ClipTokenizer FromDirectory(string directory, ClipTokenizerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"CLIP tokenizer directory not found: {Path.GetFullPath(directory)}");
        return FromFiles(Path.Combine(directory, "vocab.json"), Path.Combine(directory, "merges.txt"), options);
    }

    /// <summary>Loads a tokenizer from streams holding <c>vocab.json</c> and <c>merges.txt</c>; the streams are read to the end and left open.</summary>
    /// <param name="vocabJson">The vocabulary (JSON object: token -> id).</param>
    /// <param name="mergesTxt">The merges (optional <c>#version</c> line, then one "a b" merge per line).</param>
    /// <param name="options">Settings; null for the defaults of <c>clip.tokenize</c>.</param>
    /// <exception cref="InvalidDataException">A stream's content is malformed.</exception>
    public static ClipTokenizer FromStreams(Stream vocabJson, Stream mergesTxt, ClipTokenizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabJson);
        ArgumentNullException.ThrowIfNull(mergesTxt);
        return new ClipTokenizer(ClipVocabulary.Load(vocabJson, "vocab.json", mergesTxt, "merges.txt"), options ?? new ClipTokenizerOptions());
    }

    /// <summary>
    /// CLIP's tokenizer with OpenAI's own 49,408-token vocabulary, bundled in this assembly (the merges of OpenAI
    /// CLIP's <c>bpe_simple_vocab_16e6.txt.gz</c>, MIT licence; OpenCLIP bundles the same file). It is what every
    /// OpenAI or OpenCLIP ViT checkpoint with a 49,408-token text tower expects; <see cref="ClipModelBuilder"/> attaches
    /// it when no <c>vocab.json</c>/<c>merges.txt</c> come with the checkpoint. The vocabulary is parsed once per process.
    /// </summary>
    /// <param name="options">Settings; null for the defaults of <c>clip.tokenize</c>.</param>
    public static ClipTokenizer FromBundledVocabulary(ClipTokenizerOptions? options = null) =>
        options is null ? BundledDefault.Value : new(ClipVocabulary.BundledVocabulary, options);

    // Instances are immutable and thread-safe, so the default one is shared (built on first use).
    private static readonly Lazy<ClipTokenizer> BundledDefault =
        new(() => new ClipTokenizer(ClipVocabulary.BundledVocabulary, new ClipTokenizerOptions()), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Number of tokens of the bundled vocabulary (<see cref="FromBundledVocabulary"/>): 49,408.</summary>
    public const int BundledVocabularySize = 49408;

    /// <summary>Writes this tokenizer's vocabulary as <c>vocab.json</c> and <c>merges.txt</c> into <paramref name="directory"/>.</summary>
    internal void WriteVocabulary(string directory) => _vocabulary.WriteTo(directory);

    /// <summary>
    /// CLIP's text cleaning: the ftfy subset (if enabled), HTML unescaping twice, whitespace trimmed and collapsed to
    /// single spaces, then Python-style lower-casing (İ -> i + U+0307, final Σ -> ς).
    /// </summary>
    /// <param name="text">The raw text.</param>
    public string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _normalizer.Normalize(text);
    }

    /// <summary>Encodes one text: start token, BPE ids, end token. No padding and no truncation.</summary>
    /// <param name="text">The raw text; it is cleaned as by <see cref="Normalize"/>.</param>
    /// <exception cref="ArgumentException">The text needs a byte that a generated vocabulary does not contain.</exception>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_vocabulary.MissingSymbols.Count > 0)
            RequireRepresentable(text);

        return Framed(_bpe.EncodeToIds(text));
    }

    /// <summary>The vocabulary strings of <see cref="Encode"/>'s ids (byte-level symbols, <c>&lt;/w&gt;</c> ending each piece).</summary>
    /// <param name="text">The raw text.</param>
    public IReadOnlyList<string> Tokenize(string text) => Encode(text).Select(id => _vocabulary.Tokens[id]).ToArray();

    /// <summary>
    /// Encodes one text into a row of exactly <paramref name="contextLength"/> ids, like one row of
    /// <c>clip.tokenize</c>: start token, ids, end token, then <see cref="ClipTokenizerOptions.PadId"/>.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="contextLength">Row length; null for <see cref="ContextLength"/>.</param>
    /// <param name="truncate">Whether to cut a too-long text (keeping the end token last); null for <see cref="ClipTokenizerOptions.Truncate"/>.</param>
    /// <exception cref="ArgumentException">The text is too long and truncation is off.</exception>
    public long[] EncodeToContext(string text, int? contextLength = null, bool? truncate = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var length = ResolveContextLength(contextLength);
        var row = new long[length];
        var cut = truncate ?? Options.Truncate;
        WriteRow(EncodeForRow(text, length, cut), row, cut, text, index: null);
        return row;
    }

    /// <summary>
    /// Encodes a batch like <c>clip.tokenize(texts)</c>: an int64 tensor [texts.Count, contextLength], one row per
    /// text as in <see cref="EncodeToContext"/>. The caller owns (and should dispose) the returned tensor.
    /// </summary>
    /// <param name="texts">The texts.</param>
    /// <param name="contextLength">Row length; null for <see cref="ContextLength"/>.</param>
    /// <param name="truncate">Whether to cut too-long texts; null for <see cref="ClipTokenizerOptions.Truncate"/>.</param>
    /// <param name="device">Device of the tensor; null for the CPU.</param>
    /// <exception cref="ArgumentException">A text is too long and truncation is off; the message names its index.</exception>
    public Tensor EncodeBatch(IReadOnlyList<string> texts, int? contextLength = null, bool? truncate = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var length = ResolveContextLength(contextLength);
        var cut = truncate ?? Options.Truncate;
        var data = new long[checked(texts.Count * length)];
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts));
            WriteRow(EncodeForRow(text, length, cut), data.AsSpan(i * length, length), cut, text, i);
        }
        return torch.tensor(data, [texts.Count, length], ScalarType.Int64, device);
    }

    /// <summary>
    /// Turns ids back into text like <c>SimpleTokenizer.decode</c>: the start token is skipped, decoding stops at the
    /// first end token (so the padding after it is ignored), byte-level symbols become UTF-8 text (invalid sequences
    /// become U+FFFD), each <c>&lt;/w&gt;</c> becomes a space, and the result is trimmed.
    /// </summary>
    /// <remarks>The result is the cleaned text (<see cref="Normalize"/>), except that spaces are only restored at
    /// piece ends, e.g. "a dog's" decodes to "a dog 's".</remarks>
    /// <param name="ids">Token ids, for example a row of <see cref="EncodeBatch"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var id in ids)
        {
            if (id == EotTokenId)
                break;
            if (id == SotTokenId)
                continue;
            if ((uint)id >= (uint)VocabularySize)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Id {id} is not in the {VocabularySize}-token vocabulary.");
            foreach (var symbol in _vocabulary.Tokens[id])
            {
                if (ByteLevelAlphabet.TryGetByte(symbol, out var b))
                {
                    bytes.Add(b);
                }
                else
                {
                    // Only special tokens of a generated vocabulary can hold characters outside the byte alphabet.
                    var count = new Rune(char.IsSurrogate(symbol) ? '\uFFFD' : symbol).EncodeToUtf8(utf8);
                    for (var k = 0; k < count; k++)
                        bytes.Add(utf8[k]);
                }
            }
        }
        var text = Encoding.UTF8.GetString(bytes.ToArray());
        return text.Replace(ClipVocabulary.EndOfWord, " ", StringComparison.Ordinal).Trim();
    }

    /// <summary>
    /// The ids a row of <paramref name="length"/> is made from. Without truncation, all of them. With truncation only
    /// the first length - 1 can matter, so only the part of the cleaned text that produces them is encoded: every
    /// piece yields at least one id, so pieces after the first length - 1 are skipped, and a piece longer than
    /// <see cref="MaxPieceChars"/> is cut there (it still yields more than <paramref name="length"/> ids, and BPE
    /// merges are local, so the kept ids are those of the whole piece). This bounds the work on a megabyte-long text
    /// or a single enormous word, for which BPE is quadratic.
    /// </summary>
    private IReadOnlyList<int> EncodeForRow(string text, int length, bool truncate)
    {
        if (!truncate)
            return Encode(text);
        if (_vocabulary.MissingSymbols.Count > 0)
            RequireRepresentable(text);
        var cleaned = _normalizer.Normalize(text);
        return Framed(_bpe.EncodeToIds(RowPrefix(cleaned, length), considerPreTokenization: true, considerNormalization: false));
    }

    /// <summary>The BPE ids between the start- and end-of-text ids.</summary>
    private int[] Framed(IReadOnlyList<int> body)
    {
        var ids = new int[body.Count + 2];
        ids[0] = SotTokenId;
        for (var i = 0; i < body.Count; i++)
            ids[i + 1] = body[i];
        ids[^1] = EotTokenId;
        return ids;
    }

    /// <summary>Longest piece encoded whole when truncating to <paramref name="length"/>: long enough to give more than <paramref name="length"/> ids.</summary>
    private int MaxPieceChars(int length) => Math.Max(4096, (length + 1) * _longestTokenBytes);

    private string RowPrefix(string cleaned, int length)
    {
        var maxPiece = MaxPieceChars(length);
        var pieces = 0;
        foreach (var match in ClipPreTokenizer.Regex().EnumerateMatches(cleaned))
        {
            if (match.Length > maxPiece)
            {
                var end = match.Index + maxPiece;
                if (char.IsHighSurrogate(cleaned[end - 1]))
                    end--; // never split a surrogate pair
                return cleaned[..end];
            }
            if (++pieces >= length - 1)
                return cleaned[..(match.Index + match.Length)];
        }
        return cleaned;
    }

    private int ResolveContextLength(int? contextLength)
    {
        var length = contextLength ?? Options.ContextLength;
        if (length < 2)
            throw new ArgumentOutOfRangeException(nameof(contextLength), length, "The context length must be at least 2 (start and end tokens).");
        return length;
    }

    // clip.tokenize: tokens[:context_length] with the last one replaced by EOT when truncating, zeros (PadId) after.
    private void WriteRow(IReadOnlyList<int> ids, Span<long> row, bool truncate, string text, int? index)
    {
        if (ids.Count > row.Length)
        {
            if (!truncate)
            {
                var which = index is null ? "The text" : $"Text {index}";
                throw new ArgumentException(
                    $"{which} (\"{Preview(text)}\") has {ids.Count} tokens including start and end, more than the context length {row.Length}. " +
                    "Shorten it or enable truncation.");
            }
            for (var i = 0; i < row.Length - 1; i++)
                row[i] = ids[i];
            row[^1] = EotTokenId;
            return;
        }
        for (var i = 0; i < ids.Count; i++)
            row[i] = ids[i];
        row[ids.Count..].Fill(Options.PadId);
    }

    // A generated vocabulary may lack some byte symbols; BPE would silently drop such bytes, so refuse instead.
    private void RequireRepresentable(string text)
    {
        var cleaned = _normalizer.Normalize(text);
        foreach (var match in ClipPreTokenizer.Regex().EnumerateMatches(cleaned))
        {
            var piece = cleaned.Substring(match.Index, match.Length);
            if (piece is ClipVocabulary.StartOfText or ClipVocabulary.EndOfText)
                continue;
            var symbols = ByteLevelAlphabet.Encode(piece);
            for (var i = 0; i < symbols.Length; i++)
            {
                var symbol = i == symbols.Length - 1 ? symbols[i] + ClipVocabulary.EndOfWord : symbols[i].ToString();
                if (_vocabulary.MissingSymbols.Contains(symbol))
                    throw new ArgumentException($"The text (\"{Preview(text)}\") contains \"{piece}\", whose byte symbol \"{symbol}\" is not in the vocabulary.", nameof(text));
            }
        }
    }

    private static string Preview(string text) => text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 57), "...");

    private static void RequireFile(string path, string what)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"CLIP tokenizer {what} file not found: {Path.GetFullPath(path)}", path);
    }
}
