using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Clip;

/// <summary>
/// Converts between 8-bit RGB pixels (HWC) and float32 planes (CHW), as torchvision's <c>ToTensor()</c> and
/// <c>Normalize(mean, std)</c> do: <c>(v / 255 - mean) / std</c>, every step rounded to float32.
/// </summary>
internal sealed class ClipPixelConverter
{
    private const int Channels = 3;

    /// <summary>Float value of each (channel, byte) pair: <c>table[c * 256 + v]</c>.</summary>
    private readonly float[] table;

    private ClipPixelConverter(float[] table) => this.table = table;

    /// <summary>Scaling to [0, 1] only (<c>ToTensor()</c>).</summary>
    public static ClipPixelConverter Pixels01 { get; } = Create(null, null);

    /// <summary>Scaling to [0, 1] then <c>(x - mean) / std</c> (<c>ToTensor()</c> + <c>Normalize</c>).</summary>
    public static ClipPixelConverter Normalizing(IReadOnlyList<float> mean, IReadOnlyList<float> std) => Create(mean, std);

    private static ClipPixelConverter Create(IReadOnlyList<float>? mean, IReadOnlyList<float>? std)
    {
        // A lookup table holds exactly the float32 results of the per-element formula, so it is bit-identical.
        var table = new float[Channels * 256];
        for (var c = 0; c < Channels; c++)
        {
            for (var v = 0; v < 256; v++)
            {
                var scaled = v / 255f;
                table[c * 256 + v] = mean is null ? scaled : (scaled - mean[c]) / std![c];
            }
        }
        return new ClipPixelConverter(table);
    }

    /// <summary>Converts packed RGB rows (<paramref name="width"/> * 3 bytes each) to three planes in <paramref name="chw"/>.</summary>
    public void ToPlanes(ReadOnlySpan<byte> hwc, int height, int width, Span<float> chw)
    {
        var plane = height * width;
        for (var y = 0; y < height; y++)
            RowToPlanes(hwc.Slice(y * width * Channels, width * Channels), chw, y * width, plane);
    }

    /// <summary>Converts all pixels of <paramref name="image"/> to three planes in <paramref name="chw"/>.</summary>
    public void ToPlanes(Image<Rgb24> image, Span<float> chw)
    {
        var plane = image.Height * image.Width;
        for (var y = 0; y < image.Height; y++)
        {
            var row = MemoryMarshal.AsBytes(image.DangerousGetPixelRowMemory(y).Span);
            RowToPlanes(row, chw, y * image.Width, plane);
        }
    }

    private void RowToPlanes(ReadOnlySpan<byte> row, Span<float> chw, int offset, int plane)
    {
        var red = chw.Slice(offset, row.Length / Channels);
        var green = chw.Slice(plane + offset, red.Length);
        var blue = chw.Slice(2 * plane + offset, red.Length);
        var t = table.AsSpan();
        for (var x = 0; x < red.Length; x++)
        {
            red[x] = t[row[x * 3]];
            green[x] = t[256 + row[x * 3 + 1]];
            blue[x] = t[512 + row[x * 3 + 2]];
        }
    }

    /// <summary>
    /// Inverse conversion: <c>x * std + mean</c> (when given), times 255, rounded to the nearest level (ties to even)
    /// and clamped to 0..255; NaN becomes 0. Exactly inverts <see cref="ToPlanes(ReadOnlySpan{byte}, int, int, Span{float})"/>.
    /// </summary>
    public static Image<Rgb24> FromPlanes(ReadOnlySpan<float> chw, int height, int width, IReadOnlyList<float>? mean, IReadOnlyList<float>? std)
    {
        var plane = height * width;
        var pixels = new byte[plane * Channels];
        for (var c = 0; c < Channels; c++)
        {
            var source = chw.Slice(c * plane, plane);
            var (m, s) = mean is null ? (0f, 1f) : (mean[c], std![c]);
            for (var i = 0; i < plane; i++)
            {
                var level = MathF.Round((source[i] * s + m) * 255f);
                pixels[i * Channels + c] = float.IsNaN(level) ? (byte)0 : (byte)Math.Clamp(level, 0f, 255f);
            }
        }
        return Image.LoadPixelData<Rgb24>(pixels, width, height);
    }
}
