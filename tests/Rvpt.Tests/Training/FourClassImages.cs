using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>The small training set of the cache tests: 12 random 36 x 36 images, labels 0, 1, 2, 3, 0, ... of four classes.</summary>
internal static class FourClassImages
{
    public static readonly string[] Classes = { "cat", "dog", "banana", "car" };

    public static TensorDataset Twelve(ulong seed)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(seed, CPU);
        var images = rand(new long[] { 12, 3, 36, 36 }, generator: g);
        var labels = tensor(Enumerable.Range(0, 12).Select(i => (long)(i % 4)).ToArray());
        return new TensorDataset(images, labels, Classes);
    }
}
