using System.Buffers;

namespace Rvpt.Clip;

/// <summary>
/// One colour component of a JPEG frame: its sampling factors, its quantisation table as latched when it first
/// appears in a scan (libjpeg's <c>latch_quant_tables</c>, <c>jdinput.c</c>), and its quantised DCT coefficients for
/// the whole image (natural order, 64 per block), in a pooled array that <see cref="Dispose"/> returns.
/// </summary>
internal sealed class JpegComponent : IDisposable
{
    public JpegComponent(int id, int horizontalSampling, int verticalSampling, int quantTableIndex)
    {
        Id = id;
        HorizontalSampling = horizontalSampling;
        VerticalSampling = verticalSampling;
        QuantTableIndex = quantTableIndex;
    }

    public int Id { get; }

    public int HorizontalSampling { get; }

    public int VerticalSampling { get; }

    public int QuantTableIndex { get; }

    /// <summary>Dequantisation multipliers in natural order; all zero until the component's first scan.</summary>
    public int[] Quant { get; } = new int[64];

    public bool QuantLatched { get; set; }

    /// <summary>Samples per row before upsampling: ceil(image width * h / max h) (libjpeg's <c>downsampled_width</c>).</summary>
    public int DownsampledWidth { get; private set; }

    /// <summary>Sample rows before upsampling: ceil(image height * v / max v).</summary>
    public int DownsampledHeight { get; private set; }

    /// <summary>Blocks per row that hold image data (a non-interleaved scan covers exactly these).</summary>
    public int WidthInBlocks { get; private set; }

    /// <summary>Block rows that hold image data.</summary>
    public int HeightInBlocks { get; private set; }

    /// <summary>Blocks per row in storage: whole MCUs of an interleaved scan.</summary>
    public int BlocksPerLine { get; private set; }

    /// <summary>The coefficients, <see cref="BlocksPerLine"/> blocks per row, 64 per block (the array may be longer).</summary>
    public short[] Coefficients { get; private set; } = [];

    /// <summary>DC prediction of the current scan.</summary>
    public int DcPredictor { get; set; }

    public JpegHuffmanTable? DcTable { get; set; }

    public JpegHuffmanTable? AcTable { get; set; }

    /// <summary>Sizes the component for an image and allocates its coefficients (zero).</summary>
    public void Allocate(int width, int height, int maxH, int maxV, int mcusPerLine, int mcuRows)
    {
        DownsampledWidth = CeilDiv(width * HorizontalSampling, maxH);
        DownsampledHeight = CeilDiv(height * VerticalSampling, maxV);
        WidthInBlocks = CeilDiv(width * HorizontalSampling, maxH * 8);
        HeightInBlocks = CeilDiv(height * VerticalSampling, maxV * 8);
        BlocksPerLine = mcusPerLine * HorizontalSampling;
        var length = checked(BlocksPerLine * mcuRows * VerticalSampling * 64);
        Coefficients = ArrayPool<short>.Shared.Rent(length);
        Array.Clear(Coefficients, 0, length);
    }

    /// <summary>Returns the coefficient array to the pool.</summary>
    public void Dispose()
    {
        if (Coefficients.Length > 0)
            ArrayPool<short>.Shared.Return(Coefficients);
        Coefficients = [];
    }

    /// <summary>The 64 coefficients of the block in block row <paramref name="row"/>, column <paramref name="column"/>.</summary>
    public Span<short> Block(int row, int column) => Coefficients.AsSpan((row * BlocksPerLine + column) * 64, 64);

    private static int CeilDiv(long a, long b) => checked((int)((a + b - 1) / b));
}
