using Microsoft.ML.Tokenizers;

namespace Rvpt.Clip;

/// <summary>
/// CLIP's text cleaning (<c>simple_tokenizer.py</c>: <c>whitespace_clean(basic_clean(text)).lower()</c>):
/// optional ftfy fixes, <c>html.unescape</c> twice, strip, collapse whitespace runs to one space, lower-case.
/// </summary>
/// <remarks>Stateless, so one instance can serve concurrent encodes.</remarks>
internal sealed class ClipTextNormalizer : Normalizer
{
    /// <summary>Creates the normaliser.</summary>
    /// <param name="applyTextFixes">Whether to run <see cref="ClipTextFixer"/> (CLIP's <c>ftfy.fix_text</c> step) first.</param>
    /// <exception cref="PlatformNotSupportedException">Fixes are requested but the runtime cannot normalise Unicode.</exception>
    public ClipTextNormalizer(bool applyTextFixes)
    {
        // Fail loudly rather than silently produce ids that differ from CLIP's.
        if (applyTextFixes && !ClipTextFixer.IsSupported)
            throw new PlatformNotSupportedException(
                "CLIP's text fixes need Unicode normalisation, which is unavailable in globalization-invariant mode " +
                "(InvariantGlobalization / DOTNET_SYSTEM_GLOBALIZATION_INVARIANT). Run with ICU, or set " +
                "ClipTokenizerOptions.ApplyTextFixes = false (ids then differ from CLIP's only for text that ftfy would change).");
        ApplyTextFixes = applyTextFixes;
    }

    /// <summary>Whether the ftfy subset runs first.</summary>
    public bool ApplyTextFixes { get; }

    /// <inheritdoc />
    public override string Normalize(string original)
    {
        ArgumentNullException.ThrowIfNull(original);
        // Without the fixes, unpaired surrogates still become U+FFFD: they have no UTF-8 encoding
        // (Python's tokenizer would raise UnicodeEncodeError on them).
        var text = ApplyTextFixes ? ClipTextFixer.Fix(original) : ClipTextFixer.FixSurrogates(original);
        text = PythonHtml.Unescape(PythonHtml.Unescape(text));
        text = PythonText.CollapseWhitespace(text);
        return PythonText.ToLower(text);
    }

    /// <inheritdoc />
    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
