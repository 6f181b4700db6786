using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Rvpt.Clip;

/// <summary>
/// CLIP's pre-tokenizer: splits cleaned text into the pieces that BPE encodes separately
/// (<c>simple_tokenizer.SimpleTokenizer.pat</c>).
/// </summary>
/// <remarks>
/// Runs of letters form one piece, every digit is its own piece, runs of other non-space characters form one piece,
/// and the English contractions ('s, 't, 're, 've, 'm, 'll, 'd) are split off. Literal <c>&lt;|startoftext|&gt;</c>
/// and <c>&lt;|endoftext|&gt;</c> are single pieces, which the BPE model maps straight to their ids.
/// </remarks>
internal static partial class ClipPreTokenizer
{
    /// <summary>The pattern, as in OpenAI's <c>simple_tokenizer.py</c> (compiled there with IGNORECASE).</summary>
    public const string Pattern =
        @"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

    /// <summary>Creates the pre-tokenizer for <see cref="BpeTokenizer"/>.</summary>
    public static PreTokenizer Create() => new RegexPreTokenizer(Regex(), specialTokens: null);

    /// <summary>The compiled <see cref="Pattern"/>.</summary>
    [GeneratedRegex(Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    public static partial Regex Regex();
}
