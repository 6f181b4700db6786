using System.Runtime.CompilerServices;

namespace Rvpt.Clip;

/// <summary>
/// A Huffman decoding table built and validated like libjpeg-turbo's <c>jpeg_make_d_derived_tbl</c>
/// (github.com/libjpeg-turbo/libjpeg-turbo, <c>jdhuff.c</c>, 2.1.5): codes from the DHT counts (Figures C.1 and
/// C.2 of ITU T.81), a lookahead table for short codes and <c>maxcode</c>/<c>valoffset</c> for the rest. A bit
/// pattern that is no code decodes to symbol 0 after 17 bits, as libjpeg does (it only warns). AC tables also get a
/// second lookahead table that decodes a whole coefficient (run, size and value bits) when all of it fits in 9 bits.
/// </summary>
internal sealed class JpegHuffmanTable
{
    private const int LookaheadBits = 9;

    /// <summary>For each 9-bit prefix: code length &lt;&lt; 8 | symbol, or 0 when the code is longer.</summary>
    private readonly ushort[] lookup = new ushort[1 << LookaheadBits];
    private readonly int[] maxCode = new int[18];
    private readonly int[] valueOffset = new int[18];
    private readonly byte[] values = new byte[256];

    /// <summary>For each 9-bit prefix of an AC table: value &lt;&lt; 8 | run &lt;&lt; 4 | bits used, or 0.</summary>
    private readonly short[] coefficientLookup = new short[1 << LookaheadBits];

    private JpegHuffmanTable()
    {
    }

    /// <summary>Builds the table of a DHT entry: <paramref name="counts"/>[l - 1] codes of length l, then the symbols.</summary>
    /// <exception cref="InvalidDataException">The counts do not form a valid code, or a DC symbol is above 15.</exception>
    public static JpegHuffmanTable Create(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols, bool isDc)
    {
        var table = new JpegHuffmanTable();
        Span<byte> sizes = stackalloc byte[257];
        Span<int> codes = stackalloc int[257];
        var p = 0;
        for (var length = 1; length <= 16; length++)
        {
            int n = counts[length - 1];
            if (p + n > 256)
                throw new InvalidDataException("A Huffman table (DHT) declares more than 256 codes.");
            for (var i = 0; i < n; i++)
                sizes[p++] = (byte)length;
        }
        sizes[p] = 0;
        var symbolCount = p;
        if (symbols.Length < symbolCount)
            throw new InvalidDataException($"A Huffman table (DHT) declares {symbolCount} codes but holds {symbols.Length} symbols.");

        var code = 0;
        int size = sizes[0];
        p = 0;
        while (sizes[p] != 0)
        {
            while (sizes[p] == size)
                codes[p++] = code++;
            // The next code must still fit in `size` bits: no code may be all ones.
            if (code >= 1 << size)
                throw new InvalidDataException("A Huffman table (DHT) has code counts that do not form a valid prefix code.");
            code <<= 1;
            size++;
        }

        p = 0;
        for (var length = 1; length <= 16; length++)
        {
            int n = counts[length - 1];
            if (n != 0)
            {
                table.valueOffset[length] = p - codes[p];
                p += n;
                table.maxCode[length] = codes[p - 1];
            }
            else
            {
                table.maxCode[length] = -1;
            }
        }
        table.maxCode[17] = int.MaxValue;

        p = 0;
        for (var length = 1; length <= LookaheadBits; length++)
        {
            for (var i = 0; i < counts[length - 1]; i++, p++)
            {
                var first = codes[p] << (LookaheadBits - length);
                for (var fill = 0; fill < 1 << (LookaheadBits - length); fill++)
                    table.lookup[first + fill] = (ushort)((length << 8) | symbols[p]);
            }
        }

        symbols[..symbolCount].CopyTo(table.values);
        if (!isDc)
            table.BuildCoefficientLookup();
        if (isDc)
        {
            foreach (var symbol in symbols[..symbolCount])
            {
                if (symbol > 15)
                    throw new InvalidDataException($"A DC Huffman table (DHT) has the symbol {symbol}; DC symbols are 0..15.");
            }
        }
        return table;
    }

    private void BuildCoefficientLookup()
    {
        for (var prefix = 0; prefix < lookup.Length; prefix++)
        {
            int entry = lookup[prefix];
            int length = entry >> 8, run = (entry >> 4) & 15, size = entry & 15;
            if (entry == 0 || size == 0 || length + size > LookaheadBits)
                continue;
            var magnitude = (prefix >> (LookaheadBits - length - size)) & ((1 << size) - 1);
            var value = JpegScanDecoder.Extend(magnitude, size);
            if (value is >= -128 and <= 127)
                coefficientLookup[prefix] = (short)((value << 8) | (run << 4) | (length + size));
        }
    }

    /// <summary>
    /// Decodes a whole AC coefficient (zero run and value) when its code and value bits fit in the lookahead;
    /// otherwise consumes nothing and returns <see langword="false"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDecodeCoefficient(JpegBitReader reader, out int run, out int value)
    {
        int entry = coefficientLookup[reader.Peek16() >> (16 - LookaheadBits)];
        run = (entry >> 4) & 15;
        value = entry >> 8;
        if (entry == 0)
            return false;
        reader.Skip(entry & 15);
        return true;
    }

    /// <summary>Decodes one symbol.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Decode(JpegBitReader reader)
    {
        var peek = reader.Peek16();
        int entry = lookup[peek >> (16 - LookaheadBits)];
        if (entry != 0)
        {
            reader.Skip(entry >> 8);
            return entry & 0xFF;
        }
        return DecodeLong(reader, peek);
    }

    private int DecodeLong(JpegBitReader reader, int peek)
    {
        for (var length = LookaheadBits + 1; length <= 16; length++)
        {
            var code = peek >> (16 - length);
            if (code <= maxCode[length])
            {
                reader.Skip(length);
                return values[(code + valueOffset[length]) & 0xFF];
            }
        }
        reader.Skip(17); // not a code: libjpeg reads up to the 17th bit, warns and returns 0
        return 0;
    }
}
