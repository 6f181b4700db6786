using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Clip.Tests;

/// <summary>Deterministic test pictures and pixel access helpers.</summary>
internal static class TestImages
{
    /// <summary>A busy RGB pattern (gradients, stripes, a checkerboard) so resampling errors show.</summary>
    public static Image<Rgb24> Pattern(int width, int height, int seed = 0)
    {
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = new Rgb24(
                    (byte)((x * 37 + y * 11 + seed * 53) % 256),
                    (byte)((x * x * 13 + y * 29 + 7 + seed) % 256),
                    (byte)(((x / 3 + y / 3 + seed) % 2) * 255));
            }
        }
        return image;
    }

    /// <summary>The packed RGB bytes (HWC) of an image.</summary>
    public static byte[] Bytes(Image<Rgb24> image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    /// <summary>An image from packed RGB bytes (HWC).</summary>
    public static Image<Rgb24> FromBytes(byte[] pixels, int width, int height) => Image.LoadPixelData<Rgb24>(pixels, width, height);
}
