using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>
/// The Pillow BICUBIC port against bytes produced by Pillow 9.4's <c>Image.resize(size, Image.BICUBIC)</c> on
/// <see cref="Source"/>, covering both passes, skipped passes, overshoot clipping and strong downscaling.
/// </summary>
public sealed class PillowBicubicResamplerTests
{
    /// <summary>Pillow's output for the 7 x 5 source resized to 3 x 4 (down in x, up in y).</summary>
    private static readonly byte[] Expected3x4 =
    [
        29, 21, 119, 113, 132, 129, 197, 173, 119, 42, 60, 130, 126, 140, 127, 210, 141, 130, 56, 102, 130, 140, 135, 127,
        227, 76, 130, 69, 137, 119, 160, 174, 129, 158, 120, 119,
    ];

    /// <summary>Pillow's output for the 7 x 5 source resized to 11 x 2 (up in x, down in y).</summary>
    private static readonly byte[] Expected11x2 =
    [
        7, 31, 113, 22, 35, 127, 49, 47, 141, 73, 71, 119, 96, 107, 122, 120, 149, 142, 144, 178, 122, 167, 161, 119, 191,
        102, 141, 223, 145, 127, 243, 188, 113, 31, 97, 113, 48, 101, 127, 75, 113, 141, 99, 137, 119, 122, 181, 122, 146,
        215, 142, 170, 99, 122, 195, 68, 119, 220, 164, 141, 192, 107, 127, 165, 45, 113,
    ];

    /// <summary>Pillow's output for the 7 x 5 source resized to 7 x 9: no horizontal pass, overshoot clipped to 0 and 255.</summary>
    private static readonly byte[] Expected7x9 =
    [
        0, 5, 0, 36, 18, 255, 73, 57, 0, 110, 122, 255, 147, 213, 0, 184, 74, 255, 221, 217, 0, 3, 14, 79, 40, 27, 176, 77,
        66, 79, 114, 131, 176, 151, 231, 79, 188, 83, 176, 225, 235, 79, 10, 32, 246, 47, 45, 9, 84, 84, 246, 121, 149, 9,
        158, 252, 246, 195, 101, 9, 232, 255, 246, 16, 49, 149, 53, 62, 106, 90, 101, 149, 127, 166, 106, 164, 147, 149,
        201, 118, 106, 238, 151, 149, 22, 65, 0, 59, 78, 255, 96, 117, 0, 133, 182, 255, 170, 17, 0, 207, 134, 255, 244, 21,
        0, 28, 81, 149, 65, 94, 106, 102, 133, 149, 139, 198, 106, 176, 19, 149, 213, 150, 106, 255, 23, 149, 34, 98, 246,
        71, 111, 9, 108, 150, 246, 145, 215, 9, 182, 50, 246, 219, 167, 9, 236, 54, 246, 41, 116, 79, 78, 129, 176, 115,
        168, 79, 152, 233, 176, 189, 68, 79, 226, 185, 176, 78, 72, 79, 45, 125, 0, 82, 138, 255, 119, 177, 0, 156, 242,
        255, 193, 77, 0, 230, 194, 255, 0, 81, 0,
    ];

    /// <summary>Pillow's output for the 7 x 5 source resized to 4 x 5: no vertical pass.</summary>
    private static readonly byte[] Expected4x5 =
    [
        15, 10, 107, 77, 70, 127, 145, 165, 127, 207, 157, 107, 26, 39, 148, 88, 99, 128, 156, 194, 128, 218, 186, 148, 37,
        68, 107, 99, 133, 127, 167, 90, 127, 229, 67, 107, 48, 97, 148, 110, 162, 128, 178, 119, 128, 240, 96, 148, 59, 126,
        107, 121, 191, 127, 199, 148, 127, 110, 125, 107,
    ];

    /// <summary>Pillow's output for the 64 x 48 source resized to 5 x 4 (about 13x down: 53-tap kernels).</summary>
    private static readonly byte[] Expected5x4From64x48 =
    [
        127, 129, 127, 127, 127, 128, 128, 128, 127, 129, 127, 127, 125, 123, 128, 127, 129, 128, 128, 129, 127, 128, 132,
        127, 127, 130, 128, 129, 126, 127, 128, 127, 127, 128, 130, 128, 127, 126, 127, 128, 128, 127, 126, 129, 128, 128,
        125, 128, 126, 127, 127, 128, 125, 127, 127, 125, 128, 130, 130, 127,
    ];

    /// <summary>The pattern the reference bytes were made from: R = 37x + 11y, G = 13x² + 29y + 7 (mod 256), B = 255 on odd x + y.</summary>
    private static Image<Rgb24> Source(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)((x * 37 + y * 11) % 256), (byte)((x * x * 13 + y * 29 + 7) % 256), (byte)((x + y) % 2 == 1 ? 255 : 0));
        }
        return image;
    }

    /// <summary>Every reference size matches Pillow byte for byte.</summary>
    [Theory]
    [InlineData(7, 5, 3, 4)]
    [InlineData(7, 5, 11, 2)]
    [InlineData(7, 5, 7, 9)]
    [InlineData(7, 5, 4, 5)]
    [InlineData(64, 48, 5, 4)]
    public void Resize_matches_pillow(int sourceWidth, int sourceHeight, int width, int height)
    {
        var expected = (sourceWidth, width, height) switch
        {
            (7, 3, 4) => Expected3x4,
            (7, 11, 2) => Expected11x2,
            (7, 7, 9) => Expected7x9,
            (7, 4, 5) => Expected4x5,
            _ => Expected5x4From64x48,
        };
        using var source = Source(sourceWidth, sourceHeight);
        using var resized = PillowBicubicResampler.Resize(source, width, height);

        Assert.Equal((width, height), (resized.Width, resized.Height));
        Assert.Equal(expected, TestImages.Bytes(resized));
    }

    /// <summary>A resize to the same size copies the pixels (Pillow skips both passes).</summary>
    [Fact]
    public void Same_size_resize_is_a_copy()
    {
        using var source = TestImages.Pattern(13, 9);
        using var resized = PillowBicubicResampler.Resize(source, 13, 9);
        Assert.Equal(TestImages.Bytes(source), TestImages.Bytes(resized));
    }

    /// <summary>A region equals the same window of the full resize; parts outside the resized image are black.</summary>
    [Theory]
    [InlineData(2, 3, 10, 8)]
    [InlineData(0, 0, 31, 17)]
    [InlineData(-3, -2, 8, 6)]
    [InlineData(25, 12, 9, 9)]
    public void Region_equals_window_of_full_resize_with_zero_padding(int left, int top, int width, int height)
    {
        const int resizedWidth = 31, resizedHeight = 17;
        using var source = TestImages.Pattern(50, 23);
        using var full = PillowBicubicResampler.Resize(source, resizedWidth, resizedHeight);
        var region = new byte[width * height * 3];
        Array.Fill(region, (byte)77); // must be overwritten everywhere, padding included

        PillowBicubicResampler.ResizeRegion(source, resizedWidth, resizedHeight, new Rectangle(left, top, width, height), region);

        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (sx, sy) = (left + x, top + y);
                var expected = sx >= 0 && sy >= 0 && sx < resizedWidth && sy < resizedHeight ? full[sx, sy] : new Rgb24(0, 0, 0);
                var offset = (y * width + x) * 3;
                Assert.Equal(expected, new Rgb24(region[offset], region[offset + 1], region[offset + 2]));
            }
        }
    }

    /// <summary>A destination that is too small is rejected rather than overrun.</summary>
    [Fact]
    public void Too_small_destination_is_rejected()
    {
        using var source = TestImages.Pattern(8, 8);
        var destination = new byte[4 * 4 * 3 - 1];
        Assert.Throws<ArgumentException>(() =>
            PillowBicubicResampler.ResizeRegion(source, 4, 4, new Rectangle(0, 0, 4, 4), destination));
    }
}
