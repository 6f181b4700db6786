using Rvpt.Clip;
using Rvpt.Testing;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>A toy world for tests: coloured squares on dark noise, one class per colour.</summary>
internal static class ToyShapes
{
    public static readonly string[] Classes = { "red", "green", "blue", "yellow" };
    private static readonly float[][] Colours = { new[] { 0.9f, 0.1f, 0.1f }, new[] { 0.1f, 0.9f, 0.1f }, new[] { 0.1f, 0.1f, 0.9f }, new[] { 0.9f, 0.9f, 0.1f } };

    /// <summary>Coloured squares on dark noise, n per class, labels in class order.</summary>
    public static (Tensor Images, long[] Labels) Make(int perClass, int seed)
    {
        var g = new Generator((ulong)seed, CPU);
        var random = new Random(seed);
        var images = rand(new long[] { perClass * 4, 3, 32, 32 }, generator: g) * 0.2f;
        var labels = new long[perClass * 4];
        for (int i = 0; i < labels.Length; i++)
        {
            int c = i % 4, y = random.Next(2, 14), x = random.Next(2, 14);
            labels[i] = c;
            for (int ch = 0; ch < 3; ch++)
                images[i, ch, TensorIndex.Slice(y, y + 14), TensorIndex.Slice(x, x + 14)] = tensor(Colours[c][ch]);
        }
        return (images, labels);
    }


    /// <summary>A tiny random CLIP (32 px, patch 8) with a generated vocabulary of the toy captions' words, written to <paramref name="temp"/>.</summary>
    public static ClipModel Clip(TempDirectory temp, int seed = 3) => Clip(temp.Path, seed);

    /// <summary>A tiny random CLIP as <see cref="Clip(TempDirectory, int)"/>, its tokenizer files written to <paramref name="directory"/>.</summary>
    public static ClipModel Clip(string directory, int seed = 3)
    {
        var tokenizer = ClipVocabularyGenerator.WriteTo(directory, Classes.Concat(new[] { "a", "photo", "of" }));
        var config = new ClipConfig
        {
            EmbedDim = 32,
            Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = 8, Width = 64, Layers = 2, Heads = 2 },
            Text = new ClipTextConfig { ContextLength = 12, VocabSize = tokenizer.VocabularySize, Width = 32, Layers = 2, Heads = 2 },
        };
        return new ClipModelBuilder().WithConfig(config).WithRandomWeights(seed).WithTokenizer(tokenizer).Build();
    }

    /// <summary>Toy images with captions "a photo of a {class}.".</summary>
    public static ImageCaptionDataset CaptionPairs(int perClass, int seed)
    {
        var (images, labels) = Make(perClass, seed);
        return ImageCaptionDataset.FromTensors(images, labels.Select(l => $"a photo of a {Classes[l]}.").ToList());
    }
}
