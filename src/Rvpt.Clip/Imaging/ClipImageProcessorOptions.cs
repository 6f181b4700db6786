using TorchSharp;

namespace Rvpt.Clip;

/// <summary>
/// Settings of <see cref="ClipImageProcessor"/>. The defaults reproduce OpenAI CLIP's <c>preprocess</c> for a
/// 224-pixel model on the CPU in float32.
/// </summary>
public sealed record ClipImageProcessorOptions
{
    /// <summary>CLIP's per-channel (R, G, B) mean, as used by <c>clip.load()</c> and every OpenAI/OpenCLIP checkpoint.</summary>
    public static IReadOnlyList<float> ClipMean { get; } = Array.AsReadOnly([0.48145466f, 0.4578275f, 0.40821073f]);

    /// <summary>CLIP's per-channel (R, G, B) standard deviation, as used by <c>clip.load()</c>.</summary>
    public static IReadOnlyList<float> ClipStd { get; } = Array.AsReadOnly([0.26862954f, 0.26130258f, 0.27577711f]);

    /// <summary>Default for <see cref="MaxPixels"/>: 100 megapixels (about 300 MB once decoded to RGB).</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>
    /// Side S of the square model input: the short side is resized to S, then the centre S x S is cropped.
    /// Must match the vision tower's <c>ClipVisionConfig.ImageSize</c>. Default 224.
    /// </summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Per-channel (R, G, B) mean subtracted after scaling to [0, 1]; three values. Default <see cref="ClipMean"/>.</summary>
    public IReadOnlyList<float> Mean { get; init; } = ClipMean;

    /// <summary>Per-channel (R, G, B) standard deviation divided by after subtracting <see cref="Mean"/>; three positive values. Default <see cref="ClipStd"/>.</summary>
    public IReadOnlyList<float> Std { get; init; } = ClipStd;

    /// <summary>
    /// Largest image (width x height, read from the file header) that is decoded; larger files are refused with an
    /// <see cref="InvalidDataException"/> before any pixel memory is allocated (decompression-bomb guard).
    /// Default <see cref="DefaultMaxPixels"/> (100 megapixels).
    /// </summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>
    /// Most images decoded and resized at the same time by the batch methods; each one in flight holds its decoded
    /// pixels (3 bytes per pixel). Default <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Device of the returned tensors; <see langword="null"/> means the CPU. Default <see langword="null"/>.</summary>
    public torch.Device? Device { get; init; }

    /// <summary>
    /// Element type of the returned tensors: a floating-point type. Pixels are computed in float32 (as torchvision
    /// does) and converted at the end. Default <see cref="torch.ScalarType.Float32"/>.
    /// </summary>
    public torch.ScalarType DType { get; init; } = torch.ScalarType.Float32;

    internal void Validate()
    {
        if (ImageSize <= 0)
            throw new ArgumentException($"ImageSize must be positive, got {ImageSize}.");
        CheckChannels(Mean, nameof(Mean), positive: false);
        CheckChannels(Std, nameof(Std), positive: true);
        if (MaxPixels <= 0)
            throw new ArgumentException($"MaxPixels must be positive, got {MaxPixels}.");
        if (MaxDegreeOfParallelism <= 0)
            throw new ArgumentException($"MaxDegreeOfParallelism must be positive, got {MaxDegreeOfParallelism}.");
        if (!torch.is_floating_point(DType))
            throw new ArgumentException($"DType must be a floating-point type, got {DType}.");
    }

    private static void CheckChannels(IReadOnlyList<float>? values, string name, bool positive)
    {
        if (values is null || values.Count != 3)
            throw new ArgumentException($"{name} must have exactly 3 values (R, G, B), got {values?.Count.ToString() ?? "null"}.");
        foreach (var v in values)
        {
            if (!float.IsFinite(v) || (positive && v <= 0))
                throw new ArgumentException($"{name} values must be finite{(positive ? " and positive" : "")}, got [{string.Join(", ", values)}].");
        }
    }
}
