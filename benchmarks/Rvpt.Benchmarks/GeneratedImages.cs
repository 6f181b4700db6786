using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Benchmarks;

/// <summary>
/// A temporary image folder in <see cref="ImageFolderDataset"/> layout (one sub-folder per class) with generated
/// photographs-sized images (smooth gradients plus noise, so that JPEG has real work), deleted on dispose.
/// </summary>
public sealed class GeneratedImages : IDisposable
{
    /// <summary>Writes <paramref name="count"/> images of <paramref name="width"/> x <paramref name="height"/> in
    /// <paramref name="classes"/> class folders as JPEG (quality 90) or PNG.</summary>
    public GeneratedImages(int count, int width = 500, int height = 375, string format = "jpeg", int classes = 4, int seed = 1)
    {
        Root = Path.Combine(Path.GetTempPath(), "rvpt-bench-images-" + Guid.NewGuid().ToString("N"));
        var random = new Random(seed);
        var paths = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var dir = Path.Combine(Root, $"class{i % classes}");
            Directory.CreateDirectory(dir);
            using var image = new Image<Rgb24>(width, height);
            int phase = random.Next(256);
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    var row = rows.GetRowSpan(y);
                    for (int x = 0; x < row.Length; x++)
                    {
                        int noise = random.Next(32);
                        row[x] = new Rgb24((byte)((x + phase + noise) & 255), (byte)((y * 2 + noise) & 255), (byte)((x + y + phase) / 3 & 255));
                    }
                }
            });
            var path = Path.Combine(dir, $"img{i:D5}.{(format == "png" ? "png" : "jpg")}");
            if (format == "png") image.SaveAsPng(path);
            else image.SaveAsJpeg(path, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 90 });
            paths.Add(path);
        }
        Paths = paths;
    }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary>The image files, in generation order.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { /* best effort */ }
    }
}
