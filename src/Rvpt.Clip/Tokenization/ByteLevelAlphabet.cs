namespace Rvpt.Clip;

/// <summary>
/// GPT-2/CLIP's <c>bytes_to_unicode</c> table: a reversible map from each of the 256 byte values to a printable
/// character, so that byte-level BPE symbols can be stored as ordinary strings in vocab.json and merges.txt.
/// </summary>
/// <remarks>
/// Printable Latin-1 bytes (<c>!</c>..<c>~</c>, <c>¡</c>..<c>¬</c>, <c>®</c>..<c>ÿ</c>) map to themselves; the other 68
/// bytes (controls, space, soft hyphen, ...) map to U+0100, U+0101, ... in byte order.
/// </remarks>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte(ByteToChar);

    /// <summary>The symbol that represents <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => ByteToChar[value];

    /// <summary>The byte that <paramref name="symbol"/> represents; false if it is not in the alphabet.</summary>
    public static bool TryGetByte(char symbol, out byte value) => CharToByte.TryGetValue(symbol, out value);

    /// <summary>Maps the UTF-8 encoding of <paramref name="text"/> to byte-level symbols.</summary>
    public static string Encode(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The byte order of OpenAI's <c>bytes_to_unicode</c>: printable ranges first, then the rest ascending (vocabulary ids 0..255).</summary>
    public static IEnumerable<byte> OpenAIByteOrder()
    {
        var printable = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range(0xA1, 0xAC - 0xA1 + 1)).Concat(Enumerable.Range(0xAE, 0xFF - 0xAE + 1)).ToList();
        var set = new HashSet<int>(printable);
        return printable.Concat(Enumerable.Range(0, 256).Where(b => !set.Contains(b))).Select(b => (byte)b);
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte(char[] byteToChar)
    {
        var map = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++)
            map[byteToChar[b]] = (byte)b;
        return map;
    }
}
