using System.Text;
using System.Text.RegularExpressions;

namespace Rvpt.Clip;

/// <summary>
/// The subset of <c>ftfy.fix_text</c> (ftfy 6.x, default configuration) that CLIP's tokenizer applies before
/// anything else, without ftfy's mojibake repair.
/// </summary>
/// <remarks>
/// <para>Implemented, in ftfy's order and repeated until the text stops changing:</para>
/// <list type="number">
/// <item><c>unescape_html</c> ("auto"): decode terminated HTML references (<c>&amp;rsquo;</c>, <c>&amp;#39;</c>) unless a
/// <c>&lt;</c> occurs on this line or an earlier one.</item>
/// <item><c>fix_c1_controls</c>: U+0080..U+009F read as Windows-1252 (U+0092 -> ’).</item>
/// <item><c>fix_latin_ligatures</c>: ﬁ -> fi, ﬂ -> fl, Ĳ -> IJ, ǆ -> dž, ...</item>
/// <item><c>fix_character_width</c>: NFKC of the half-/full-width block U+FF01..U+FFEF (Ａ -> A, ｶ -> カ), U+3000 -> space.</item>
/// <item><c>uncurl_quotes</c>: ‘ ’ ‚ ‛ ʼ -> ' and “ ” „ ‟ -> ".</item>
/// <item><c>fix_line_breaks</c>: CRLF, CR, U+2028, U+2029, U+0085 -> LF.</item>
/// <item><c>fix_surrogates</c>: unpaired UTF-16 surrogates -> U+FFFD.</item>
/// <item><c>remove_terminal_escapes</c>: ANSI sequences such as ESC[31m.</item>
/// <item><c>remove_control_chars</c>: C0 controls other than tab/LF/FF/CR, DEL, U+206A..U+206F, BOM, U+FFF9..U+FFFC.</item>
/// <item>NFC normalisation (<c>normalization='NFC'</c>): e + U+0301 -> é.</item>
/// </list>
/// <para>Not implemented: <c>fix_encoding</c> (mojibake such as "cafÃ©" -> "café", with <c>restore_byte_a0</c>,
/// <c>replace_lossy_sequences</c> and <c>decode_inconsistent_utf8</c>), and ftfy's decoding of upper-cased entity
/// names such as <c>&amp;EACUTE;</c>. For such input the ids can differ from OpenAI's tokenizer.</para>
/// </remarks>
internal static partial class ClipTextFixer
{
    // The fixes converge after two or three passes; the cap only guards against an unforeseen oscillation.
    private const int MaxPasses = 16;

    private static readonly Dictionary<char, string> Ligatures = new()
    {
        ['\u0132'] = "IJ", ['\u0133'] = "ij", ['\u0149'] = "\u02BCn",
        ['\u01F1'] = "DZ", ['\u01F2'] = "Dz", ['\u01F3'] = "dz",
        ['\u01C4'] = "D\u017D", ['\u01C5'] = "D\u017E", ['\u01C6'] = "d\u017E",
        ['\u01C7'] = "LJ", ['\u01C8'] = "Lj", ['\u01C9'] = "lj",
        ['\u01CA'] = "NJ", ['\u01CB'] = "Nj", ['\u01CC'] = "nj",
        ['\uFB00'] = "ff", ['\uFB01'] = "fi", ['\uFB02'] = "fl", ['\uFB03'] = "ffi", ['\uFB04'] = "ffl",
        ['\uFB05'] = "\u017Ft", ['\uFB06'] = "st",
    };

    private static readonly Dictionary<char, string> Widths = BuildWidthMap();

    /// <summary>
    /// Whether the runtime can normalise Unicode. Not in globalization-invariant mode
    /// (<c>InvariantGlobalization</c> / <c>DOTNET_SYSTEM_GLOBALIZATION_INVARIANT</c>), where normalisation silently
    /// returns its input, so NFC and the width fix would do nothing.
    /// </summary>
    public static bool IsSupported { get; } = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";

    /// <summary>Applies the fixes listed on <see cref="ClipTextFixer"/> to <paramref name="text"/>.</summary>
    public static string Fix(string text)
    {
        if (IsUntouchable(text))
            return text;

        // ftfy works line by line, and once a line contains '<' (possible HTML) it stops unescaping for good.
        var firstAngle = text.IndexOf('<');
        if (firstAngle < 0)
            return FixSegment(text, unescapeHtml: true);
        var splitAt = text.LastIndexOf('\n', firstAngle) + 1;
        return FixSegment(text[..splitAt], unescapeHtml: true) + FixSegment(text[splitAt..], unescapeHtml: false);
    }

    /// <summary>Replaces unpaired UTF-16 surrogates with U+FFFD (ftfy's <c>fix_surrogates</c>).</summary>
    public static string FixSurrogates(string text)
    {
        StringBuilder? builder = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }
            var replacement = char.IsSurrogate(c) ? '\uFFFD' : c;
            if (builder is null && replacement != c)
                builder = new StringBuilder(text.Length).Append(text, 0, i);
            builder?.Append(replacement);
        }
        return builder?.ToString() ?? text;
    }

    // Printable ASCII (plus tab, LF, FF) without '&' is left unchanged by every fix.
    private static bool IsUntouchable(string text)
    {
        foreach (var c in text)
        {
            if (c is (< ' ' or > '~' or '&') and not ('\t' or '\n' or '\f'))
                return false;
        }
        return true;
    }

    private static string FixSegment(string text, bool unescapeHtml)
    {
        for (var pass = 0; pass < MaxPasses; pass++)
        {
            var original = text;
            if (unescapeHtml)
                text = UnescapeHtml(text);
            text = MapChars(text, FixC1Control);
            text = MapChars(text, c => Ligatures.GetValueOrDefault(c));
            text = MapChars(text, c => Widths.GetValueOrDefault(c));
            text = MapChars(text, UncurlQuote);
            text = FixLineBreaks(text);
            text = FixSurrogates(text);
            text = TerminalEscape().Replace(text, string.Empty);
            text = MapChars(text, c => IsRemovedControl(c) ? string.Empty : null);
            text = ToNfc(text);
            if (text == original)
                break;
        }
        return text;
    }

    // ftfy.fixes.unescape_html: only references that end in ';', and numeric ones only when fully consumed.
    private static string UnescapeHtml(string text)
    {
        if (!text.Contains('&'))
            return text;
        return HtmlEntity().Replace(text, match =>
        {
            var entity = match.Value;
            if (entity[1] != '#')
                return PythonHtml.LookupTerminatedName(entity[1..]) ?? entity;
            var unescaped = PythonHtml.Unescape(entity);
            return unescaped.Contains(';') ? entity : unescaped;
        });
    }

    // .NET (ICU) rejects the noncharacter U+FFFE, which Python keeps. It has no decomposition and combines with
    // nothing, so the text around it can be normalised piece by piece.
    private static string ToNfc(string text) =>
        text.Contains('\uFFFE')
            ? string.Join('\uFFFE', text.Split('\uFFFE').Select(part => part.Normalize(NormalizationForm.FormC)))
            : text.Normalize(NormalizationForm.FormC);

    private static string? FixC1Control(char c) =>
        SloppyWindows1252.IsC1(c) ? SloppyWindows1252.FromC1(c).ToString() : null;

    private static string? UncurlQuote(char c) => c switch
    {
        '\u02BC' or >= '\u2018' and <= '\u201B' => "'",
        >= '\u201C' and <= '\u201F' => "\"",
        _ => null,
    };

    private static bool IsRemovedControl(char c) =>
        c is <= '\u0008' or '\u000B' or >= '\u000E' and <= '\u001F' or '\u007F'
            or >= '\u206A' and <= '\u206F' or '\uFEFF' or >= '\uFFF9' and <= '\uFFFC';

    private static string FixLineBreaks(string text)
    {
        if (text.AsSpan().IndexOfAny('\r', '\u2028', '\u2029') < 0 && !text.Contains('\u0085'))
            return text;
        return text.Replace("\r\n", "\n").Replace('\r', '\n').Replace('\u2028', '\n').Replace('\u2029', '\n')
            .Replace('\u0085', '\n');
    }

    // Replaces each UTF-16 unit for which map returns non-null; returns the same instance when nothing changes.
    private static string MapChars(string text, Func<char, string?> map)
    {
        StringBuilder? builder = null;
        for (var i = 0; i < text.Length; i++)
        {
            var replacement = map(text[i]);
            if (replacement is null)
            {
                builder?.Append(text[i]);
                continue;
            }
            builder ??= new StringBuilder(text.Length + 8).Append(text, 0, i);
            builder.Append(replacement);
        }
        return builder?.ToString() ?? text;
    }

    // ftfy's WIDTH_MAP: the ideographic space plus every U+FF01..U+FFEF character that NFKC changes.
    private static Dictionary<char, string> BuildWidthMap()
    {
        var map = new Dictionary<char, string> { ['\u3000'] = " " };
        for (var c = '\uFF01'; c < '\uFFF0'; c++)
        {
            var single = c.ToString();
            var alternate = single.Normalize(NormalizationForm.FormKC);
            if (alternate != single)
                map[c] = alternate;
        }
        return map;
    }

    [GeneratedRegex(@"&#?[0-9A-Za-z]{1,24};", RegexOptions.CultureInvariant)]
    private static partial Regex HtmlEntity();

    [GeneratedRegex(@"\x1B\[((?:\d|;)*)([a-zA-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex TerminalEscape();
}
