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

}
