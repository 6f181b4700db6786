using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Rvpt.Clip;

/// <summary>
/// libjpeg-turbo's accurate integer inverse DCT (<c>JDCT_ISLOW</c>, Pillow's default): a port of
/// <c>jpeg_idct_islow</c> in github.com/libjpeg-turbo/libjpeg-turbo <c>jidctint.c</c> (2.1.5) for 8-bit samples,
/// with dequantisation folded in and its post-IDCT range-limit table (<c>prepare_range_limit_table</c>,
/// <c>jdmaster.c</c>), so that every output sample equals libjpeg-turbo's. The SIMD versions libjpeg-turbo runs on
/// x86 give the same results. With AVX2 the same integer arithmetic runs on 8 columns (then 8 rows) at once; the
/// shortcuts for all-zero columns and rows are left out there, as they give the same numbers as the full formulas.
/// </summary>
internal static class JpegIslowIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;
    private const int Pass1Shift = ConstBits - Pass1Bits;
    private const int Pass2Shift = ConstBits + Pass1Bits + 3;

    // FIX(x) = round(x * 2^13), the constants of jidctint.c.
    private const int Fix0298631336 = 2446;
    private const int Fix0390180644 = 3196;
    private const int Fix0541196100 = 4433;
    private const int Fix0765366865 = 6270;
    private const int Fix0899976223 = 7373;
    private const int Fix1175875602 = 9633;
    private const int Fix1501321110 = 12299;
    private const int Fix1847759065 = 15137;
    private const int Fix1961570560 = 16069;
    private const int Fix2053119869 = 16819;
    private const int Fix2562915447 = 20995;
    private const int Fix3072711026 = 25172;

    /// <summary>
    /// libjpeg's post-IDCT range limit, indexed by <c>value &amp; 1023</c>: adds the level shift of 128 and clamps to
    /// 0..255 for values in [-512, 511] (out-of-range values wrap exactly as in libjpeg).
    /// </summary>
    private static readonly byte[] RangeLimit = BuildRangeLimit();

    /// <summary>
    /// Dequantises the 64 coefficients of <paramref name="block"/> (natural order) by <paramref name="quant"/>
    /// (natural order), inverse-transforms them and writes 8 rows of 8 samples at <paramref name="output"/> with
    /// <paramref name="stride"/> bytes between rows.
    /// </summary>
    public static void Transform(ReadOnlySpan<short> block, ReadOnlySpan<int> quant, Span<byte> output, int stride)
    {
        if (Avx2.IsSupported)
            TransformAvx2(block, quant, output, stride);
        else
            TransformScalar(block, quant, output, stride);
    }

    /// <summary>The AVX2 version of <see cref="TransformScalar"/>: identical results.</summary>
    internal static void TransformAvx2(ReadOnlySpan<short> block, ReadOnlySpan<int> quant, Span<byte> output, int stride)
    {
        block = block[..64];
        quant = quant[..64];
        if (output.Length < 7 * stride + 8)
            throw new ArgumentException("The output is too small for an 8 x 8 block.", nameof(output));
        var q = MemoryMarshal.Cast<int, Vector256<int>>(quant);

        // Pass 1: each vector is one row of coefficients; the 1-D IDCT runs down the 8 columns at once.
        var r0 = Row(block, 0) * q[0];
        var r1 = Row(block, 1) * q[1];
        var r2 = Row(block, 2) * q[2];
        var r3 = Row(block, 3) * q[3];
        var r4 = Row(block, 4) * q[4];
        var r5 = Row(block, 5) * q[5];
        var r6 = Row(block, 6) * q[6];
        var r7 = Row(block, 7) * q[7];
        Idct1D(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, Pass1Shift);

        // Pass 2: transposed, each vector is one column of the work array; the IDCT runs along the 8 rows at once.
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Idct1D(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, Pass2Shift);
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);

        var rows0123 = Vector256.Narrow(Vector256.Narrow(Limit(r0), Limit(r1)), Vector256.Narrow(Limit(r2), Limit(r3))).AsUInt64();
        var rows4567 = Vector256.Narrow(Vector256.Narrow(Limit(r4), Limit(r5)), Vector256.Narrow(Limit(r6), Limit(r7))).AsUInt64();
        for (var r = 0; r < 4; r++)
        {
            MemoryMarshal.Write(output[(r * stride)..], rows0123.GetElement(r));
            MemoryMarshal.Write(output[((r + 4) * stride)..], rows4567.GetElement(r));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Row(ReadOnlySpan<short> block, int row) =>
        Avx2.ConvertToVector256Int32(Vector128.Create(block.Slice(row * 8, 8)));

    /// <summary>
    /// The 1-D IDCT of <c>jpeg_idct_islow</c> on inputs y0..y7 (one per vector), outputs in place, descaled by
    /// 2^<paramref name="shift"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Idct1D(ref Vector256<int> y0, ref Vector256<int> y1, ref Vector256<int> y2, ref Vector256<int> y3,
        ref Vector256<int> y4, ref Vector256<int> y5, ref Vector256<int> y6, ref Vector256<int> y7, int shift)
    {
        // Even part.
        var z1 = (y2 + y6) * Fix0541196100;
        var tmp2 = z1 + y6 * -Fix1847759065;
        var tmp3 = z1 + y2 * Fix0765366865;
        var tmp0 = Vector256.ShiftLeft(y0 + y4, ConstBits);
        var tmp1 = Vector256.ShiftLeft(y0 - y4, ConstBits);
        var tmp10 = tmp0 + tmp3;
        var tmp13 = tmp0 - tmp3;
        var tmp11 = tmp1 + tmp2;
        var tmp12 = tmp1 - tmp2;

        // Odd part.
        tmp0 = y7;
        tmp1 = y5;
        tmp2 = y3;
        tmp3 = y1;
        z1 = tmp0 + tmp3;
        var z2 = tmp1 + tmp2;
        var z3 = tmp0 + tmp2;
        var z4 = tmp1 + tmp3;
        var z5 = (z3 + z4) * Fix1175875602;
        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 = z3 * -Fix1961570560 + z5;
        z4 = z4 * -Fix0390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        var round = Vector256.Create(1 << (shift - 1));
        y0 = Vector256.ShiftRightArithmetic(tmp10 + tmp3 + round, shift);
        y7 = Vector256.ShiftRightArithmetic(tmp10 - tmp3 + round, shift);
        y1 = Vector256.ShiftRightArithmetic(tmp11 + tmp2 + round, shift);
        y6 = Vector256.ShiftRightArithmetic(tmp11 - tmp2 + round, shift);
        y2 = Vector256.ShiftRightArithmetic(tmp12 + tmp1 + round, shift);
        y5 = Vector256.ShiftRightArithmetic(tmp12 - tmp1 + round, shift);
        y3 = Vector256.ShiftRightArithmetic(tmp13 + tmp0 + round, shift);
        y4 = Vector256.ShiftRightArithmetic(tmp13 - tmp0 + round, shift);
    }

    /// <summary>The range-limit table as arithmetic: the low 10 bits as a signed value, plus 128, clamped to 0..255.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Limit(Vector256<int> x) =>
        Vector256.Min(Vector256.Max(Vector256.ShiftRightArithmetic(Vector256.ShiftLeft(x, 22), 22) + Vector256.Create(128), Vector256<int>.Zero), Vector256.Create(255));

    /// <summary>Transposes the 8 x 8 matrix whose rows are the eight vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
        ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        var t0 = Avx2.UnpackLow(r0, r1).AsInt64();
        var t1 = Avx2.UnpackHigh(r0, r1).AsInt64();
        var t2 = Avx2.UnpackLow(r2, r3).AsInt64();
        var t3 = Avx2.UnpackHigh(r2, r3).AsInt64();
        var t4 = Avx2.UnpackLow(r4, r5).AsInt64();
        var t5 = Avx2.UnpackHigh(r4, r5).AsInt64();
        var t6 = Avx2.UnpackLow(r6, r7).AsInt64();
        var t7 = Avx2.UnpackHigh(r6, r7).AsInt64();
        var u0 = Avx2.UnpackLow(t0, t2).AsInt32();  // column 0 | column 4 of rows 0..3
        var u1 = Avx2.UnpackHigh(t0, t2).AsInt32(); // column 1 | column 5
        var u2 = Avx2.UnpackLow(t1, t3).AsInt32();  // column 2 | column 6
        var u3 = Avx2.UnpackHigh(t1, t3).AsInt32(); // column 3 | column 7
        var u4 = Avx2.UnpackLow(t4, t6).AsInt32();  // the same for rows 4..7
        var u5 = Avx2.UnpackHigh(t4, t6).AsInt32();
        var u6 = Avx2.UnpackLow(t5, t7).AsInt32();
        var u7 = Avx2.UnpackHigh(t5, t7).AsInt32();
        r0 = Avx2.Permute2x128(u0, u4, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31);
        r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r2 = Avx2.Permute2x128(u2, u6, 0x20);
        r6 = Avx2.Permute2x128(u2, u6, 0x31);
        r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>The scalar port of <c>jpeg_idct_islow</c>, line for line.</summary>
    internal static void TransformScalar(ReadOnlySpan<short> block, ReadOnlySpan<int> quant, Span<byte> output, int stride)
    {
        Span<int> ws = stackalloc int[64];
        block = block[..64];
        quant = quant[..64];
        var limit = RangeLimit.AsSpan();

        // Pass 1: columns from the input into the work array, scaled up by 2^Pass1Bits.
        for (var c = 0; c < 8; c++)
        {
            if (block[8 + c] == 0 && block[16 + c] == 0 && block[24 + c] == 0 && block[32 + c] == 0 &&
                block[40 + c] == 0 && block[48 + c] == 0 && block[56 + c] == 0)
            {
                var dc = (block[c] * quant[c]) << Pass1Bits;
                for (var r = 0; r < 64; r += 8)
                    ws[r + c] = dc;
                continue;
            }

            // Even part.
            var z2 = block[16 + c] * quant[16 + c];
            var z3 = block[48 + c] * quant[48 + c];
            var z1 = (z2 + z3) * Fix0541196100;
            var tmp2 = z1 + z3 * -Fix1847759065;
            var tmp3 = z1 + z2 * Fix0765366865;

            z2 = block[c] * quant[c];
            z3 = block[32 + c] * quant[32 + c];
            var tmp0 = (z2 + z3) << ConstBits;
            var tmp1 = (z2 - z3) << ConstBits;

            var tmp10 = tmp0 + tmp3;
            var tmp13 = tmp0 - tmp3;
            var tmp11 = tmp1 + tmp2;
            var tmp12 = tmp1 - tmp2;

            // Odd part.
            tmp0 = block[56 + c] * quant[56 + c];
            tmp1 = block[40 + c] * quant[40 + c];
            tmp2 = block[24 + c] * quant[24 + c];
            tmp3 = block[8 + c] * quant[8 + c];
            OddPart(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            ws[c] = Descale(tmp10 + tmp3, Pass1Shift);
            ws[56 + c] = Descale(tmp10 - tmp3, Pass1Shift);
            ws[8 + c] = Descale(tmp11 + tmp2, Pass1Shift);
            ws[48 + c] = Descale(tmp11 - tmp2, Pass1Shift);
            ws[16 + c] = Descale(tmp12 + tmp1, Pass1Shift);
            ws[40 + c] = Descale(tmp12 - tmp1, Pass1Shift);
            ws[24 + c] = Descale(tmp13 + tmp0, Pass1Shift);
            ws[32 + c] = Descale(tmp13 - tmp0, Pass1Shift);
        }

        // Pass 2: rows from the work array to the output, descaled by 8 and 2^Pass1Bits.
        for (var r = 0; r < 8; r++)
        {
            var w = ws.Slice(r * 8, 8);
            var row = output.Slice(r * stride, 8);
            if (w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0)
            {
                row.Fill(limit[Descale(w[0], Pass1Bits + 3) & 1023]);
                continue;
            }

            var z2 = w[2];
            var z3 = w[6];
            var z1 = (z2 + z3) * Fix0541196100;
            var tmp2 = z1 + z3 * -Fix1847759065;
            var tmp3 = z1 + z2 * Fix0765366865;

            var tmp0 = (w[0] + w[4]) << ConstBits;
            var tmp1 = (w[0] - w[4]) << ConstBits;

            var tmp10 = tmp0 + tmp3;
            var tmp13 = tmp0 - tmp3;
            var tmp11 = tmp1 + tmp2;
            var tmp12 = tmp1 - tmp2;

            tmp0 = w[7];
            tmp1 = w[5];
            tmp2 = w[3];
            tmp3 = w[1];
            OddPart(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            row[0] = limit[Descale(tmp10 + tmp3, Pass2Shift) & 1023];
            row[7] = limit[Descale(tmp10 - tmp3, Pass2Shift) & 1023];
            row[1] = limit[Descale(tmp11 + tmp2, Pass2Shift) & 1023];
            row[6] = limit[Descale(tmp11 - tmp2, Pass2Shift) & 1023];
            row[2] = limit[Descale(tmp12 + tmp1, Pass2Shift) & 1023];
            row[5] = limit[Descale(tmp12 - tmp1, Pass2Shift) & 1023];
            row[3] = limit[Descale(tmp13 + tmp0, Pass2Shift) & 1023];
            row[4] = limit[Descale(tmp13 - tmp0, Pass2Shift) & 1023];
        }
    }

    /// <summary>The odd part (figure 8 of Loeffler et al.): inputs y7, y5, y3, y1 in, tmp0..tmp3 out.</summary>
    private static void OddPart(ref int tmp0, ref int tmp1, ref int tmp2, ref int tmp3)
    {
        var z1 = tmp0 + tmp3;
        var z2 = tmp1 + tmp2;
        var z3 = tmp0 + tmp2;
        var z4 = tmp1 + tmp3;
        var z5 = (z3 + z4) * Fix1175875602;

        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 *= -Fix1961570560;
        z4 *= -Fix0390180644;

        z3 += z5;
        z4 += z5;

        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }

    /// <summary>libjpeg's <c>DESCALE</c>: divide by 2^n, rounding half up (arithmetic shift).</summary>
    private static int Descale(int x, int n) => (x + (1 << (n - 1))) >> n;

    private static byte[] BuildRangeLimit()
    {
        var table = new byte[1024];
        for (var i = 0; i < 1024; i++)
        {
            var value = i < 512 ? i : i - 1024; // the signed value before the mask
            table[i] = (byte)Math.Clamp(value + 128, 0, 255);
        }
        return table;
    }
}
