using Rvpt.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Cli.Tests;

/// <summary>Tiny checkpoints and generated image folders for end-to-end runs of the tool.</summary>
internal static class TestData
{
    public static readonly string[] Classes = ["apple", "banana", "cherry"];

    /// <summary>
    /// The tiny random CLIP of the golden fixtures (OpenAI layout, 32 px, 3 vision blocks, CLIP's 49,408-token
    /// vocabulary beside it), copied into <paramref name="folder"/> with its tokenizer files.
    /// </summary>
    public static string TinyModel(string folder)
    {
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, "tiny.safetensors");
        File.Copy(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"), target, overwrite: true);
        File.Copy(Fixtures.ClipTinyFile("vocab.json"), Path.Combine(folder, "vocab.json"), overwrite: true);
        File.Copy(Fixtures.ClipTinyFile("merges.txt"), Path.Combine(folder, "merges.txt"), overwrite: true);
        return target;
    }

    /// <summary>
    /// An image folder with <paramref name="perClass"/> small PNGs per class; each class has its own colour with
    /// per-image noise, so the classes are learnable even by a tiny model.
    /// </summary>
    public static string ImageFolder(string root, int perClass, int seed, params string[] classes)
    {
        if (classes.Length == 0) classes = Classes;
        var random = new Random(seed);
        for (int c = 0; c < classes.Length; c++)
        {
            var dir = Path.Combine(root, classes[c]);
            Directory.CreateDirectory(dir);
            for (int i = 0; i < perClass; i++)
            {
                using var image = new Image<Rgb24>(36, 36);
                for (int y = 0; y < 36; y++)
                    for (int x = 0; x < 36; x++)
                    {
                        int n = random.Next(-40, 41);
                        image[x, y] = new Rgb24(Clamp((c == 0 ? 200 : 40) + n), Clamp((c == 1 ? 200 : 40) + n), Clamp((c == 2 ? 200 : 40) + n + x * 2));
                    }
                image.SaveAsPng(Path.Combine(dir, $"img{i:D2}.png"));
            }
        }
        return root;
    }

    public static string ClassesFile(string path, params string[] classes)
    {
        File.WriteAllLines(path, classes.Length == 0 ? Classes : classes);
        return path;
    }

    /// <summary>A small PNG (a trigger patch or blend image).</summary>
    public static string Png(string path, int size, byte r, byte g, byte b)
    {
        using var image = new Image<Rgb24>(size, size);
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                image[x, y] = (x + y) % 2 == 0 ? new Rgb24(r, g, b) : new Rgb24(0, 0, 0);
        image.SaveAsPng(path);
        return path;
    }

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
}
