namespace Rvpt.Clip;

/// <summary>
/// Brings one component's decoded samples to full image resolution, row by row, choosing the method libjpeg-turbo's
/// <c>jinit_upsampler</c> picks with its defaults (<c>do_fancy_upsampling</c> on, which Pillow keeps): the
/// triangular "fancy" filters <c>h2v1_fancy_upsample</c>, <c>h1v2_fancy_upsample</c> and
/// <c>h2v2_fancy_upsample</c> for 2:1 ratios, plain replication otherwise (<c>int_upsample</c>, and for 2:1 when a row
/// has at most 2 samples). Ported from github.com/libjpeg-turbo/libjpeg-turbo <c>jdsample.c</c> (2.1.5); the rows
/// above the first and below the last are copies of them, as <c>jdmainct.c</c> provides its context rows.
/// </summary>
internal sealed class JpegUpsampler
{
    private enum Method
    {
        FullSize,
        H2V1Fancy,
        H1V2Fancy,
        H2V2Fancy,
        Replicate,
    }

    private readonly byte[] plane;
    private readonly int stride;
    private readonly int width;   // downsampled width
    private readonly int height;  // downsampled height
    private readonly int horizontalFactor;
    private readonly int verticalFactor;
    private readonly Method method;
    private readonly byte[] row;

    /// <summary>
    /// An upsampler for <paramref name="plane"/> (<paramref name="width"/> x <paramref name="height"/> samples,
    /// <paramref name="stride"/> bytes per row) that is <paramref name="horizontalFactor"/> x
    /// <paramref name="verticalFactor"/> times smaller than the image.
    /// </summary>
    public JpegUpsampler(byte[] plane, int stride, int width, int height, int horizontalFactor, int verticalFactor)
    {
        this.plane = plane;
        this.stride = stride;
        this.width = width;
        this.height = height;
        this.horizontalFactor = horizontalFactor;
        this.verticalFactor = verticalFactor;
        method = (horizontalFactor, verticalFactor) switch
        {
            (1, 1) => Method.FullSize,
            (2, 1) when width > 2 => Method.H2V1Fancy,
            (1, 2) => Method.H1V2Fancy,
            (2, 2) when width > 2 => Method.H2V2Fancy,
            _ => Method.Replicate,
        };
        row = method == Method.FullSize ? [] : new byte[width * horizontalFactor];
    }

    /// <summary>Output row <paramref name="y"/> at full resolution (at least the image width long).</summary>
    public ReadOnlySpan<byte> Row(int y)
    {
        switch (method)
        {
            case Method.FullSize:
                return plane.AsSpan(y * stride, width);
            case Method.H2V1Fancy:
                H2V1(Input(y), row);
                break;
            case Method.H1V2Fancy:
                H1V2(y);
                break;
            case Method.H2V2Fancy:
                H2V2(y);
                break;
            default:
                var input = Input(y / verticalFactor);
                for (var x = 0; x < row.Length; x++)
                    row[x] = input[x / horizontalFactor];
                break;
        }
        return row;
    }

    private ReadOnlySpan<byte> Input(int inputRow) => plane.AsSpan(Math.Clamp(inputRow, 0, height - 1) * stride, width);

    /// <summary>2:1 horizontal: 3/4 of the nearer sample plus 1/4 of the further one, alternating rounding biases.</summary>
    private static void H2V1(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var last = input.Length - 1;
        output[0] = input[0];
        output[1] = (byte)((input[0] * 3 + input[1] + 2) >> 2);
        for (var i = 1; i < last; i++)
        {
            var value = input[i] * 3;
            output[2 * i] = (byte)((value + input[i - 1] + 1) >> 2);
            output[2 * i + 1] = (byte)((value + input[i + 1] + 2) >> 2);
        }
        output[2 * last] = (byte)((input[last] * 3 + input[last - 1] + 1) >> 2);
        output[2 * last + 1] = input[last];
    }

    /// <summary>2:1 vertical: 3/4 of the nearer row plus 1/4 of the row above (bias 1) or below (bias 2).</summary>
    private void H1V2(int y)
    {
        var (nearRow, farRow, bias) = VerticalNeighbours(y, 1, 2);
        ReadOnlySpan<byte> near = Input(nearRow), far = Input(farRow);
        for (var x = 0; x < width; x++)
            row[x] = (byte)((near[x] * 3 + far[x] + bias) >> 2);
    }

    /// <summary>2:1 both ways: column sums 3 * nearer row + further row, then 3:1 across columns (biases 8 and 7).</summary>
    private void H2V2(int y)
    {
        var (nearRow, farRow, _) = VerticalNeighbours(y, 0, 0);
        ReadOnlySpan<byte> near = Input(nearRow), far = Input(farRow);
        var last = width - 1;
        var thisSum = near[0] * 3 + far[0];
        var nextSum = near[1] * 3 + far[1];
        row[0] = (byte)((thisSum * 4 + 8) >> 4);
        row[1] = (byte)((thisSum * 3 + nextSum + 7) >> 4);
        var lastSum = thisSum;
        thisSum = nextSum;
        for (var i = 1; i < last; i++)
        {
            nextSum = near[i + 1] * 3 + far[i + 1];
            row[2 * i] = (byte)((thisSum * 3 + lastSum + 8) >> 4);
            row[2 * i + 1] = (byte)((thisSum * 3 + nextSum + 7) >> 4);
            lastSum = thisSum;
            thisSum = nextSum;
        }
        row[2 * last] = (byte)((thisSum * 3 + lastSum + 8) >> 4);
        row[2 * last + 1] = (byte)((thisSum * 4 + 7) >> 4);
    }

    /// <summary>
    /// For output row <paramref name="y"/> of a 2:1 vertical ratio: the nearer input row, the next nearest (above for
    /// even rows, below for odd ones; <see cref="Input"/> clamps it to the image) and that side's rounding bias.
    /// </summary>
    private static (int Near, int Far, int Bias) VerticalNeighbours(int y, int biasAbove, int biasBelow)
    {
        var inputRow = y >> 1;
        return (y & 1) == 0 ? (inputRow, inputRow - 1, biasAbove) : (inputRow, inputRow + 1, biasBelow);
    }
}
