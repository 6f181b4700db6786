using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;

namespace Rvpt.Tests;

/// <summary>Small generated images and folders for the data-layer tests.</summary>
internal static class DataTestImages
{
    /// <summary>Writes a PNG whose pixels depend on position and <paramref name="tint"/>, creating folders as needed.</summary>
    public static string WritePng(string path, int width, int height, int tint = 0)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
                image[x, y] = new Rgb24((byte)(x * 255 / Math.Max(1, width - 1)), (byte)(y * 255 / Math.Max(1, height - 1)), (byte)(tint * 37 % 256));
        }
        image.SaveAsPng(path);
        return path;
    }

    /// <summary>Creates <c>root/class/img{i}.png</c> for each class with the given image counts.</summary>
    public static void WriteFolder(string root, params (string Class, int Count)[] classes)
    {
        var tint = 0;
        foreach (var (name, count) in classes)
        {
            for (var i = 0; i < count; i++)
                WritePng(Path.Combine(root, name, $"img{i:D2}.png"), 20 + i % 3, 16 + tint % 5, tint++);
        }
    }

    /// <summary>A random [N, 3, H, W] image tensor in [0, 1] and labels cycling through the classes.</summary>
    public static (torch.Tensor Images, torch.Tensor Labels) RandomTensors(int count, int classes, int height, int width, int seed = 0)
    {
        var generator = new torch.Generator((ulong)seed);
        var images = torch.rand([count, 3, height, width], generator: generator);
        var labels = torch.tensor(Enumerable.Range(0, count).Select(i => (long)(i % classes)).ToArray());
        return (images, labels);
    }
}
