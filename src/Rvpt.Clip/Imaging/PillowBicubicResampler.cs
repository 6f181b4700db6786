using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Clip;

/// <summary>
/// Reproduces Pillow's <c>Image.resize(size, Image.BICUBIC)</c> on 8-bit RGB bit for bit (Pillow's
/// <c>ImagingResample</c>: separable cubic convolution with a = -0.5, filter widened by the scale factor when
/// downscaling, 22-bit fixed-point weights, a horizontal pass then a vertical pass with the intermediate rounded and
/// clipped to 8 bits, and no pass along an axis whose size is unchanged). ImageSharp's own bicubic resampler differs
/// by several levels, which CLIP's embeddings notice; this keeps the pixels the model was trained and evaluated on.
/// </summary>
/// <remarks>
/// Only a rectangular region of the resized image is produced: every output pixel depends on its own position alone,
/// so cropping before or after resampling gives the same bytes, and the centre crop costs only what it keeps.
/// </remarks>
internal static class PillowBicubicResampler
{
    private const int BytesPerPixel = 3;

    /// <summary>Resizes the whole image (Pillow's <c>resize((width, height), BICUBIC)</c>).</summary>
    public static Image<Rgb24> Resize(Image<Rgb24> source, int width, int height)
    {
        var pixels = new byte[checked(width * height * BytesPerPixel)];
        ResizeRegion(source, width, height, new Rectangle(0, 0, width, height), pixels);
        return Image.LoadPixelData<Rgb24>(pixels, width, height);
    }

    /// <summary>
    /// Writes <paramref name="region"/> of <paramref name="source"/> resized to <paramref name="resizedWidth"/> x
    /// <paramref name="resizedHeight"/> into <paramref name="destination"/> as packed RGB rows
    /// (<c>region.Width * 3</c> bytes each). Parts of the region outside the resized image are zero (black padding).
    /// </summary>
    public static void ResizeRegion(Image<Rgb24> source, int resizedWidth, int resizedHeight, Rectangle region, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resizedWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resizedHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(region.Width, nameof(region));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(region.Height, nameof(region));
        var destinationStride = region.Width * BytesPerPixel;
        if (destination.Length < (long)destinationStride * region.Height)
            throw new ArgumentException($"Destination holds {destination.Length} bytes; a {region.Width} x {region.Height} RGB region needs {(long)destinationStride * region.Height}.", nameof(destination));

        // The part of the region that lies inside the resized image; the rest is padding.
        var x0 = Math.Max(region.Left, 0);
        var x1 = Math.Min(region.Right, resizedWidth);
        var y0 = Math.Max(region.Top, 0);
        var y1 = Math.Min(region.Bottom, resizedHeight);
        if (x0 != region.Left || y0 != region.Top || x1 != region.Right || y1 != region.Bottom)
            destination[..(destinationStride * region.Height)].Clear();
        if (x0 >= x1 || y0 >= y1)
            return;

        var horizontal = PillowBicubicKernel.Create(source.Width, resizedWidth, x0, x1 - x0);
        var vertical = PillowBicubicKernel.Create(source.Height, resizedHeight, y0, y1 - y0);
        var rowFirst = vertical.FirstInput;
        var rowCount = vertical.EndInput - rowFirst;
        var tempStride = (x1 - x0) * BytesPerPixel;

        // Horizontal pass over only the source rows the vertical pass reads (Pillow's ybox_first..ybox_last).
        var temp = ArrayPool<byte>.Shared.Rent(checked(rowCount * tempStride));
        var accumulator = ArrayPool<int>.Shared.Rent(tempStride);
        try
        {
            for (var r = 0; r < rowCount; r++)
            {
                var sourceRow = MemoryMarshal.AsBytes(source.DangerousGetPixelRowMemory(rowFirst + r).Span);
                ResampleRow(sourceRow, horizontal, temp.AsSpan(r * tempStride, tempStride));
            }

            for (var y = 0; y < vertical.Count; y++)
            {
                var output = destination.Slice(
                    (y0 - region.Top + y) * destinationStride + (x0 - region.Left) * BytesPerPixel, tempStride);
                ResampleColumn(temp, tempStride, vertical.Start(y) - rowFirst, vertical.Weights(y), accumulator.AsSpan(0, tempStride), output);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(accumulator);
            ArrayPool<byte>.Shared.Return(temp);
        }
    }

    /// <summary>Pillow's <c>ImagingResampleHorizontal_8bpc</c> for one row.</summary>
    private static void ResampleRow(ReadOnlySpan<byte> source, PillowBicubicKernel kernel, Span<byte> output)
    {
        const int half = 1 << (PillowBicubicKernel.PrecisionBits - 1);
        for (var i = 0; i < kernel.Count; i++)
        {
            var weights = kernel.Weights(i);
            var input = source.Slice(kernel.Start(i) * BytesPerPixel, weights.Length * BytesPerPixel);
            int r = half, g = half, b = half;
            for (var x = 0; x < weights.Length; x++)
            {
                var w = weights[x];
                r += input[x * 3] * w;
                g += input[x * 3 + 1] * w;
                b += input[x * 3 + 2] * w;
            }
            output[i * 3] = Clip8(r);
            output[i * 3 + 1] = Clip8(g);
            output[i * 3 + 2] = Clip8(b);
        }
    }

    /// <summary>
    /// Pillow's <c>ImagingResampleVertical_8bpc</c> for one output row, accumulated tap by tap over whole rows
    /// (integer sums, so the order does not change the result).
    /// </summary>
    private static void ResampleColumn(byte[] temp, int stride, int firstRow, ReadOnlySpan<int> weights, Span<int> accumulator, Span<byte> output)
    {
        accumulator.Fill(1 << (PillowBicubicKernel.PrecisionBits - 1));
        for (var t = 0; t < weights.Length; t++)
        {
            var w = weights[t];
            var row = temp.AsSpan((firstRow + t) * stride, stride);
            for (var j = 0; j < row.Length; j++)
                accumulator[j] += row[j] * w;
        }
        for (var j = 0; j < output.Length; j++)
            output[j] = Clip8(accumulator[j]);
    }

    /// <summary>Pillow's <c>clip8</c>: drop the fraction bits (arithmetic shift, i.e. floor) and clamp to 0..255.</summary>
    private static byte Clip8(int value)
    {
        var v = value >> PillowBicubicKernel.PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }
}
