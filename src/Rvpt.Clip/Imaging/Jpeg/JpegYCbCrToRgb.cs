namespace Rvpt.Clip;

/// <summary>
/// libjpeg-turbo's YCbCr -> RGB conversion (<c>build_ycc_rgb_table</c> in <c>jdcolor.c</c> and
/// <c>ycc_rgb_convert_internal</c> in <c>jdcolext.c</c>, github.com/libjpeg-turbo/libjpeg-turbo 2.1.5): 16-bit
/// fixed-point tables, R = Y + round(1.402 (Cr - 128)), B = Y + round(1.772 (Cb - 128)),
/// G = Y + ((-0.34414 (Cb - 128) - 0.71414 (Cr - 128) + 1/2) >> 16), each clamped to 0..255.
/// </summary>
internal static class JpegYCbCrToRgb
{
    private const int ScaleBits = 16;
    private const int OneHalf = 1 << (ScaleBits - 1);

    private static readonly int[] CrToR = new int[256];
    private static readonly int[] CbToB = new int[256];
    private static readonly int[] CrToG = new int[256];
    private static readonly int[] CbToG = new int[256];

    /// <summary>Clamp to 0..255 as a table (libjpeg's <c>sample_range_limit</c>), indexed by value + <see cref="ClampOffset"/>.</summary>
    private static readonly byte[] ClampTable = new byte[1024];
    private const int ClampOffset = 384;

    static JpegYCbCrToRgb()
    {
        for (int i = 0, x = -128; i < 256; i++, x++)
        {
            CrToR[i] = (Fix(1.40200) * x + OneHalf) >> ScaleBits;
            CbToB[i] = (Fix(1.77200) * x + OneHalf) >> ScaleBits;
            CrToG[i] = -Fix(0.71414) * x;
            CbToG[i] = -Fix(0.34414) * x + OneHalf;
        }
        for (var i = 0; i < ClampTable.Length; i++)
            ClampTable[i] = (byte)Math.Clamp(i - ClampOffset, 0, 255);
    }

    /// <summary>Converts one row: <paramref name="rgb"/> receives R, G, B for each of its pixels.</summary>
    public static void ConvertRow(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb)
    {
        var width = rgb.Length / 3;
        y = y[..width];
        cb = cb[..width];
        cr = cr[..width];
        // Y + chroma term lies in -227..481, inside the clamp table's range.
        var clamp = ClampTable.AsSpan(ClampOffset - 256, 768);
        int[] crToR = CrToR, cbToB = CbToB, crToG = CrToG, cbToG = CbToG;
        for (var x = 0; x < width; x++)
        {
            int luma = y[x] + 256, blue = cb[x], red = cr[x];
            var pixel = rgb.Slice(3 * x, 3);
            pixel[0] = clamp[luma + crToR[red]];
            pixel[1] = clamp[luma + ((cbToG[blue] + crToG[red]) >> ScaleBits)];
            pixel[2] = clamp[luma + cbToB[blue]];
        }
    }

    /// <summary>libjpeg's <c>FIX</c>: x * 2^16 rounded.</summary>
    private static int Fix(double x) => (int)(x * (1 << ScaleBits) + 0.5);
}
