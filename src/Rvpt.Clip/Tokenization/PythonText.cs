using System.Globalization;
using System.Text;

namespace Rvpt.Clip;

/// <summary>
/// The few Python <c>str</c> semantics that CLIP's text cleaning relies on and that differ from .NET:
/// <c>str.isspace</c> (used by <c>strip()</c> and <c>re</c>'s <c>\s</c>) and <c>str.lower</c> (full case mapping).
/// </summary>
internal static class PythonText
{
    private const char CapitalSigma = '\u03A3';

    /// <summary>
    /// Python's <c>str.isspace</c> for one UTF-16 unit: <see cref="char.IsWhiteSpace(char)"/> plus U+001C..U+001F,
    /// which Python counts as whitespace (bidirectional class B/S) and .NET does not.
    /// </summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>
    /// <c>re.sub(r'\s+', ' ', text.strip()).strip()</c>: trims Python whitespace and collapses each run of it to one
    /// ASCII space.
    /// </summary>
    public static string CollapseWhitespace(string text)
    {
        var start = 0;
        var end = text.Length;
        while (start < end && IsSpace(text[start])) start++;
        while (end > start && IsSpace(text[end - 1])) end--;

        var builder = new StringBuilder(end - start);
        var pendingSpace = false;
        for (var i = start; i < end; i++)
        {
            var c = text[i];
            if (IsSpace(c))
            {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }
            builder.Append(c);
        }
        return builder.ToString();
    }

    /// <summary>
    /// Python's <c>str.lower</c>. .NET's invariant lower-casing uses simple (one-to-one) mappings; Python also applies
    /// the unconditional full mapping U+0130 (İ) -> "i" + U+0307 and the final-sigma rule (Σ -> ς at the end of a
    /// word). All other code points map identically.
    /// </summary>
    public static string ToLower(string text)
    {
        if (IsAscii(text))
            return text.ToLowerInvariant();

        var builder = new StringBuilder(text.Length + 4);
        var index = 0;
        while (index < text.Length)
        {
            // Lone surrogates are not Runes; keep them as they are (Python would keep them too).
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                builder.Append(text[index]);
                index++;
                continue;
            }

            if (rune.Value == 0x0130)
                builder.Append("i\u0307");
            else if (rune.Value == CapitalSigma)
                builder.Append(IsFinalSigma(text, index) ? '\u03C2' : '\u03C3');
            else
                builder.Append(Rune.ToLowerInvariant(rune).ToString());
            index += consumed;
        }
        return builder.ToString();
    }

    private static bool IsAscii(string text)
    {
        foreach (var c in text)
        {
            if (c > '\u007F')
                return false;
        }
        return true;
    }

    // Unicode's Final_Sigma condition as CPython implements it (handle_capital_sigma):
    // preceded by a cased letter and not followed by one, skipping case-ignorable characters on both sides.
    private static bool IsFinalSigma(string text, int sigmaIndex)
    {
        var before = PreviousNonIgnorable(text, sigmaIndex);
        if (before is null || !IsCased(before.Value))
            return false;
        var after = NextNonIgnorable(text, sigmaIndex + 1);
        return after is null || !IsCased(after.Value);
    }

    private static Rune? PreviousNonIgnorable(string text, int end)
    {
        var index = end;
        while (index > 0)
        {
            if (Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
                return null;
            if (!IsCaseIgnorable(rune))
                return rune;
            index -= consumed;
        }
        return null;
    }

    private static Rune? NextNonIgnorable(string text, int start)
    {
        var index = start;
        while (index < text.Length)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
                return null;
            if (!IsCaseIgnorable(rune))
                return rune;
            index += consumed;
        }
        return null;
    }

    // Unicode "Cased": upper/lower/title-case letters, characters with case mappings (e.g. circled letters), and the
    // Other_Lowercase/Other_Uppercase characters that have neither and are not case-ignorable anyway
    // (ª, º, squared and negative circled/squared Latin capitals).
    private static bool IsCased(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        || Rune.ToLowerInvariant(rune) != rune
        || Rune.ToUpperInvariant(rune) != rune
        || rune.Value is 0x00AA or 0x00BA or >= 0x1F130 and <= 0x1F149 or >= 0x1F150 and <= 0x1F169 or >= 0x1F170 and <= 0x1F189;

    // Unicode "Case_Ignorable": marks, format characters, modifiers, and the word-internal punctuation
    // of Word_Break MidLetter / MidNumLet / Single_Quote.
    private static bool IsCaseIgnorable(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || rune.Value is '\'' or '.' or ':' or 0x00B7 or 0x0387 or 0x055F or 0x05F4 or 0x2018 or 0x2019 or 0x2024
            or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
}
