using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// A few-shot training set made up on demand: <c>shots x classes</c> images of <c>size x size</c> uniform noise in
/// [0, 1], image <c>i</c> of class <c>i / shots</c>, each drawn from its own seed, so that nothing is held in memory
/// (16 shots x 1000 classes at 224 x 224 would be 9.6 GB of float32) and every epoch sees the same images.
/// </summary>
public sealed class GeneratedImageSource(int classes, int shots, int size, int seed = 1) : ILabeledImageSource
{
    /// <inheritdoc />
    public int Count => classes * shots;

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; } = ClassNameList.Create(classes);

    /// <inheritdoc />
    public int GetLabel(int index) => Check(index) / shots;

    /// <inheritdoc />
    public string Describe(int index) => $"generated image {Check(index)}";

    /// <inheritdoc />
    public Tensor LoadPixels01(int index)
    {
        using var g = new Generator((ulong)SeedMixer.Mix(seed, Check(index)), CPU);
        return rand(new long[] { 3, size, size }, generator: g);
    }

    private int Check(int index) =>
        (uint)index < (uint)Count ? index : throw new ArgumentOutOfRangeException(nameof(index), index, $"Index outside the {Count} images.");
}
