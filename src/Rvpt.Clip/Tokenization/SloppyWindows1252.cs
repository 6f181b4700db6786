namespace Rvpt.Clip;

/// <summary>
/// How the C1 control range U+0080..U+009F reads when it really is Windows-1252 text that was decoded as Latin-1
/// (ftfy's "sloppy-windows-1252": the five bytes that Windows-1252 leaves undefined stay as they are). Python's
/// <c>html.unescape</c> uses the same table for numeric references such as <c>&amp;#150;</c>.
/// </summary>
internal static class SloppyWindows1252
{
    private const string C1Table =
        "\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F" +
        "\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178";

    /// <summary>True for the C1 control characters U+0080..U+009F.</summary>
    public static bool IsC1(int codePoint) => codePoint is >= 0x80 and <= 0x9F;

    /// <summary>The Windows-1252 reading of a C1 control character (see <see cref="IsC1"/>).</summary>
    public static char FromC1(int codePoint) => C1Table[codePoint - 0x80];
}
