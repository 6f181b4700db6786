namespace Rvpt.Clip;

/// <summary>Settings of a <see cref="ClipTokenizer"/>. The defaults reproduce OpenAI's <c>clip.tokenize</c>.</summary>
public sealed record ClipTokenizerOptions
{
    /// <summary>
    /// Length of the rows made by <see cref="ClipTokenizer.EncodeToContext"/> and <see cref="ClipTokenizer.EncodeBatch"/>,
    /// start and end tokens included. Default 77. Must be at least 2.
    /// </summary>
    public int ContextLength { get; init; } = 77;

    /// <summary>
    /// Whether a text longer than the context is cut (true, like <c>clip.tokenize(..., truncate=True)</c>: the first
    /// <see cref="ContextLength"/> - 1 tokens are kept and the end token is put last) or rejected with an
    /// <see cref="ArgumentException"/> (false). Default true.
    /// </summary>
    /// <remarks>
    /// When truncating, only the part of the cleaned text that reaches the row is BPE-encoded: the first
    /// <see cref="ContextLength"/> - 1 pieces, each of at most max(4096, (<see cref="ContextLength"/> + 1) x the longest
    /// token's bytes) characters. A longer piece still yields more ids than the row holds, and the kept ids are those of
    /// the whole text (tested against full encodings); the work no longer grows with the text's length.
    /// </remarks>
    public bool Truncate { get; init; } = true;

    /// <summary>
    /// Whether to apply CLIP's <c>ftfy.fix_text</c> step (a documented subset of ftfy: NFC, curly quotes, ligatures,
    /// full-width forms, control characters, HTML entities; no mojibake repair). Default true.
    /// </summary>
    /// <remarks>
    /// Needs Unicode normalisation (ICU). In globalization-invariant mode, creating a tokenizer with this on throws
    /// <see cref="PlatformNotSupportedException"/>.
    /// </remarks>
    public bool ApplyTextFixes { get; init; } = true;

    /// <summary>Id written after the end token to fill a row. Default 0, as in <c>clip.tokenize</c>.</summary>
    public int PadId { get; init; }

    internal void Validate()
    {
        if (ContextLength < 2)
            throw new ArgumentException($"ContextLength must be at least 2 (start and end tokens), got {ContextLength}.");
        if (PadId < 0)
            throw new ArgumentException($"PadId must be >= 0, got {PadId}.");
    }
}
