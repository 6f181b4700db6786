using System.Text.RegularExpressions;

namespace Rvpt.Clip;

/// <summary>
/// A port of Python's <c>html.unescape</c>, which CLIP's text cleaning applies twice.
/// </summary>
/// <remarks>
/// <see cref="System.Net.WebUtility.HtmlDecode(string)"/> differs from Python on ordinary input: it knows only HTML 4's
/// 253 names (Python: all 2231 HTML5 ones), needs the trailing semicolon (<c>&amp;amp</c> stays as is), keeps
/// <c>&amp;#150;</c> as a C1 control instead of reading it as Windows-1252 "–", and keeps invalid references such as
/// <c>&amp;#0;</c>. This class follows Python's algorithm: the same pattern, the same numeric rules, and the
/// longest-prefix match for the legacy names that may omit the semicolon (<c>&amp;notit;</c> -> "¬it;").
/// </remarks>
internal static partial class PythonHtml
{
    /// <summary>Python's <c>html.unescape</c>: replaces the character references in <paramref name="text"/>.</summary>
    public static string Unescape(string text) =>
        text.Contains('&') ? CharacterReference().Replace(text, match => Replace(match.Groups[1].Value)) : text;

    /// <summary>The replacement for a named reference given with its semicolon (e.g. <c>"amp;"</c>); null if unknown.</summary>
    public static string? LookupTerminatedName(string nameWithSemicolon) =>
        HtmlEntityTable.Entries.GetValueOrDefault(nameWithSemicolon);

    // Mirrors html._replace_charref.
    private static string Replace(string reference)
    {
        if (reference[0] == '#')
        {
            var hex = reference.Length > 1 && reference[1] is 'x' or 'X';
            var digits = reference.AsSpan(hex ? 2 : 1).TrimEnd(';');
            return FromCodePoint(ParseCodePoint(digits, hex));
        }

        if (HtmlEntityTable.Entries.TryGetValue(reference, out var known))
            return known;

        // Longest name that is a proper prefix (at least two characters); only the legacy names can match here,
        // as the prefix cannot contain the semicolon.
        for (var length = reference.Length - 1; length > 1; length--)
        {
            if (HtmlEntityTable.Entries.TryGetValue(reference[..length], out var prefix))
                return prefix + reference[length..];
        }
        return "&" + reference;
    }

    // Stops at 0x110000: any larger value is equally invalid.
    private static int ParseCodePoint(ReadOnlySpan<char> digits, bool hex)
    {
        var value = 0;
        foreach (var c in digits)
        {
            var digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
            value = value * (hex ? 16 : 10) + digit;
            if (value > 0x10FFFF)
                return 0x110000;
        }
        return value;
    }

    private static string FromCodePoint(int codePoint)
    {
        if (codePoint == 0)
            return "\uFFFD";
        if (codePoint == 0x0D)
            return "\r";
        if (SloppyWindows1252.IsC1(codePoint))
            return SloppyWindows1252.FromC1(codePoint).ToString();
        if (codePoint is >= 0xD800 and <= 0xDFFF or > 0x10FFFF)
            return "\uFFFD";
        if (IsInvalidCodePoint(codePoint))
            return string.Empty;
        return char.ConvertFromUtf32(codePoint);
    }

    // html._invalid_codepoints: C0 controls other than whitespace, DEL, and the Unicode noncharacters.
    private static bool IsInvalidCodePoint(int codePoint) =>
        codePoint is >= 0x01 and <= 0x08 or 0x0B or >= 0x0E and <= 0x1F or 0x7F or >= 0xFDD0 and <= 0xFDEF
        || (codePoint & 0xFFFE) == 0xFFFE;

    [GeneratedRegex(@"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)", RegexOptions.CultureInvariant)]
    private static partial Regex CharacterReference();
}
