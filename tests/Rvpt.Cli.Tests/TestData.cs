using Rvpt.Clip;
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
    /// The same tiny CLIP in OpenCLIP's layout: a folder with <c>open_clip_model.safetensors</c> (OpenAI key names,
    /// without the fixture's <c>__metadata__</c> config, so only <c>open_clip_config.json</c> describes the model) and
    /// <c>open_clip_config.json</c> as OpenCLIP's <c>push_to_hf_hub</c> writes it. No tokenizer files: the text tower
    /// has CLIP's 49,408 tokens, so the bundled vocabulary applies.
    /// </summary>
    public static string TinyOpenClipFolder(string folder)
    {
        Directory.CreateDirectory(folder);
        var tensors = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_openai.safetensors"));
        try
        {
            SafetensorsFile.Save(Path.Combine(folder, "open_clip_model.safetensors"), tensors);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        // The fixture's config (tests/fixtures MANIFEST: ViT 32 px, patch 8, width 128, 3 blocks, 2 heads; text width
        // 64, 2 blocks, 2 heads; QuickGELU; embed 32) in OpenCLIP's terms, with OpenAI's normalisation.
        File.WriteAllText(Path.Combine(folder, "open_clip_config.json"), """
            {
              "model_cfg": {
                "embed_dim": 32,
                "quick_gelu": true,
                "vision_cfg": { "image_size": 32, "layers": 3, "width": 128, "head_width": 64, "patch_size": 8 },
                "text_cfg": { "context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2 }
              },
              "preprocess_cfg": {
                "mean": [0.48145466, 0.4578275, 0.40821073],
                "std": [0.26862954, 0.26130258, 0.27577711]
              }
            }
            """);
        return folder;
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
