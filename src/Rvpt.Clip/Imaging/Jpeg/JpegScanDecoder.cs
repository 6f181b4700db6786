namespace Rvpt.Clip;

/// <summary>
/// Decodes the entropy-coded data of one scan into the components' coefficients: sequential Huffman scans as
/// libjpeg-turbo's <c>decode_mcu</c> (<c>jdhuff.c</c>) and the four progressive scan kinds as its
/// <c>decode_mcu_DC_first</c>, <c>decode_mcu_AC_first</c>, <c>decode_mcu_DC_refine</c> and
/// <c>decode_mcu_AC_refine</c> (<c>jdphuff.c</c>), github.com/libjpeg-turbo/libjpeg-turbo 2.1.5, including their
/// handling of damaged data (bad codes decode as 0; after the data runs out, the rest of the restart interval is left
/// untouched).
/// </summary>
internal sealed class JpegScanDecoder
{
    /// <summary>jpeg_natural_order with libjpeg's 16 extra entries, so that a corrupt run cannot index past 63.</summary>
    private static readonly byte[] NaturalOrder =
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    ];

    private readonly JpegComponent[] components;
    private readonly bool progressive;
    private readonly int spectralStart;
    private readonly int spectralEnd;
    private readonly int approximationHigh;
    private readonly int approximationLow;
    private int eobRun;

    /// <summary>A scan over <paramref name="components"/> (in scan order) with the SOS parameters Ss, Se, Ah, Al.</summary>
    public JpegScanDecoder(JpegComponent[] components, bool progressive, int spectralStart, int spectralEnd, int approximationHigh, int approximationLow)
    {
        this.components = components;
        this.progressive = progressive;
        this.spectralStart = spectralStart;
        this.spectralEnd = spectralEnd;
        this.approximationHigh = approximationHigh;
        this.approximationLow = approximationLow;
    }

    /// <summary>Natural-order position of zig-zag index <paramref name="k"/> (0..63).</summary>
    public static int Natural(int k) => NaturalOrder[k];

    /// <summary>
    /// Decodes every MCU of the scan from <paramref name="reader"/>. <paramref name="mcusPerLine"/> and
    /// <paramref name="mcuRows"/> describe the interleaved MCU grid; a one-component scan walks that component's blocks.
    /// </summary>
    public void Decode(JpegBitReader reader, int mcusPerLine, int mcuRows, int restartInterval)
    {
        var single = components.Length == 1;
        var columns = single ? components[0].WidthInBlocks : mcusPerLine;
        var rows = single ? components[0].HeightInBlocks : mcuRows;
        foreach (var component in components)
            component.DcPredictor = 0;
        eobRun = 0;
        var restartsToGo = restartInterval;

        for (var mcuRow = 0; mcuRow < rows; mcuRow++)
        {
            for (var mcuColumn = 0; mcuColumn < columns; mcuColumn++)
            {
                if (restartInterval > 0)
                {
                    if (restartsToGo == 0)
                    {
                        reader.Restart();
                        foreach (var component in components)
                            component.DcPredictor = 0;
                        eobRun = 0;
                        restartsToGo = restartInterval;
                    }
                    restartsToGo--;
                }
                // libjpeg leaves the MCUs after the data ran out untouched (DC refinement excepted).
                if (reader.InsufficientData && !(progressive && spectralStart == 0 && approximationHigh != 0))
                    continue;

                if (single)
                {
                    DecodeBlock(reader, components[0], components[0].Block(mcuRow, mcuColumn));
                    continue;
                }
                foreach (var component in components)
                {
                    for (var y = 0; y < component.VerticalSampling; y++)
                    {
                        for (var x = 0; x < component.HorizontalSampling; x++)
                        {
                            var block = component.Block(mcuRow * component.VerticalSampling + y, mcuColumn * component.HorizontalSampling + x);
                            DecodeBlock(reader, component, block);
                        }
                    }
                }
            }
        }
    }

    private void DecodeBlock(JpegBitReader reader, JpegComponent component, Span<short> block)
    {
        if (!progressive)
            DecodeSequential(reader, component, block);
        else if (spectralStart == 0)
        {
            if (approximationHigh == 0)
                DecodeDcFirst(reader, component, block);
            else if (reader.ReadBit() != 0)
                block[0] |= (short)(1 << approximationLow);
        }
        else if (approximationHigh == 0)
            DecodeAcFirst(reader, component.AcTable!, block);
        else
            DecodeAcRefine(reader, component.AcTable!, block);
    }

    private static void DecodeSequential(JpegBitReader reader, JpegComponent component, Span<short> block)
    {
        var s = component.DcTable!.Decode(reader);
        var dc = component.DcPredictor + Extend(reader.ReadBits(s), s);
        component.DcPredictor = dc;
        block[0] = (short)dc;

        var ac = component.AcTable!;
        for (var k = 1; k < 64; k++)
        {
            if (ac.TryDecodeCoefficient(reader, out var skip, out var value))
            {
                k += skip;
                block[NaturalOrder[k]] = (short)value;
                continue;
            }
            var symbol = ac.Decode(reader);
            var run = symbol >> 4;
            s = symbol & 15;
            if (s != 0)
            {
                k += run;
                block[NaturalOrder[k]] = (short)Extend(reader.ReadBits(s), s);
            }
            else
            {
                if (run != 15)
                    break;
                k += 15;
            }
        }
    }

    private void DecodeDcFirst(JpegBitReader reader, JpegComponent component, Span<short> block)
    {
        var s = component.DcTable!.Decode(reader);
        var dc = component.DcPredictor + Extend(reader.ReadBits(s), s);
        component.DcPredictor = dc;
        block[0] = (short)(dc << approximationLow);
    }

    private void DecodeAcFirst(JpegBitReader reader, JpegHuffmanTable table, Span<short> block)
    {
        if (eobRun > 0)
        {
            eobRun--;
            return;
        }
        for (var k = spectralStart; k <= spectralEnd; k++)
        {
            if (table.TryDecodeCoefficient(reader, out var skip, out var value))
            {
                k += skip;
                block[NaturalOrder[k]] = (short)(value << approximationLow);
                continue;
            }
            var symbol = table.Decode(reader);
            var run = symbol >> 4;
            var s = symbol & 15;
            if (s != 0)
            {
                k += run;
                block[NaturalOrder[k]] = (short)(Extend(reader.ReadBits(s), s) << approximationLow);
            }
            else if (run == 15)
            {
                k += 15;
            }
            else
            {
                eobRun = (1 << run) + reader.ReadBits(run) - 1;
                break;
            }
        }
    }

    private void DecodeAcRefine(JpegBitReader reader, JpegHuffmanTable table, Span<short> block)
    {
        var p1 = 1 << approximationLow;
        var m1 = -1 << approximationLow;
        var k = spectralStart;
        if (eobRun == 0)
        {
            for (; k <= spectralEnd; k++)
            {
                var symbol = table.Decode(reader);
                var run = symbol >> 4;
                var s = symbol & 15;
                if (s != 0)
                {
                    // The size of a newly non-zero coefficient is always 1 (libjpeg only warns otherwise).
                    s = reader.ReadBit() != 0 ? p1 : m1;
                }
                else if (run != 15)
                {
                    eobRun = (1 << run) + reader.ReadBits(run);
                    break; // the rest of the block is handled by the EOB logic below
                }
                // Advance over already non-zero coefficients (appending correction bits) and `run` zero ones.
                do
                {
                    var position = NaturalOrder[k];
                    if (block[position] != 0)
                        Refine(reader, ref block[position], p1, m1);
                    else if (--run < 0)
                        break;
                    k++;
                }
                while (k <= spectralEnd);
                if (s != 0)
                    block[NaturalOrder[k]] = (short)s;
            }
        }
        if (eobRun > 0)
        {
            for (; k <= spectralEnd; k++)
            {
                var position = NaturalOrder[k];
                if (block[position] != 0)
                    Refine(reader, ref block[position], p1, m1);
            }
            eobRun--;
        }
    }

    /// <summary>A correction bit for an already non-zero coefficient: 1 means its magnitude grows by p1.</summary>
    private static void Refine(JpegBitReader reader, ref short coefficient, int p1, int m1)
    {
        if (reader.ReadBit() != 0 && (coefficient & p1) == 0)
            coefficient += (short)(coefficient >= 0 ? p1 : m1);
    }

    /// <summary>libjpeg's <c>HUFF_EXTEND</c>: the signed value of an <paramref name="s"/>-bit magnitude category.</summary>
    internal static int Extend(int bits, int s) => s == 0 ? 0 : bits < 1 << (s - 1) ? bits + (-1 << s) + 1 : bits;
}
