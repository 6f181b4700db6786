using Rvpt.Clip;
using TorchSharp;

namespace Rvpt;

/// <summary>
/// CoOp's training augmentation on [3, H, W] [0, 1] pixel tensors: torchvision's <c>RandomResizedCrop</c> to S x S (bicubic,
/// antialiased, clamped to [0, 1]), a random horizontal flip, then CLIP normalisation.
/// </summary>
/// <remarks>
/// All randomness comes from the <see cref="Random"/> passed in, drawn in a fixed order (crop attempts, then the
/// flip draw, which is made even when the probability is 0 or 1), so the same seed gives the same output. The
/// instance is immutable and thread-safe; a <see cref="Random"/> is not, so use one per thread.
/// Like torchvision on PIL images, the crop is taken from the image at its stored resolution.
/// </remarks>
public sealed class CoOpAugmentation
{
    private readonly ClipImageProcessor processor;

    /// <summary>Creates the augmentation.</summary>
    /// <param name="processor">Gives the output size S (<see cref="ClipImageProcessor.ImageSize"/>) and the normalisation.</param>
    /// <param name="options">Settings; <see langword="null"/> means CoOp's defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public CoOpAugmentation(ClipImageProcessor processor, CoOpAugmentationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(processor);
        Options = options ?? new CoOpAugmentationOptions();
        Options.Validate();
        this.processor = processor;
    }

    /// <summary>The settings in use.</summary>
    public CoOpAugmentationOptions Options { get; }

    /// <summary>Output side S.</summary>
    public int ImageSize => processor.ImageSize;

    /// <summary>Crop, resize, flip and normalise.</summary>
    /// <param name="pixels01">A floating-point [3, H, W] image in [0, 1]; it is not modified.</param>
    /// <param name="random">The source of randomness.</param>
    /// <returns>A new normalised [3, S, S] tensor (same device and dtype as <paramref name="pixels01"/>), owned by the caller.</returns>
    /// <exception cref="ArgumentException"><paramref name="pixels01"/> is not a floating-point [3, H, W] tensor.</exception>
    public torch.Tensor Apply(torch.Tensor pixels01, Random random)
    {
        using var augmented = ApplyPixels01(pixels01, random);
        return processor.Normalize(augmented);
    }

    /// <summary>Crop, resize and flip, without normalisation.</summary>
    /// <param name="pixels01">A floating-point [3, H, W] image in [0, 1]; it is not modified.</param>
    /// <param name="random">The source of randomness.</param>
    /// <returns>A new [3, S, S] tensor in [0, 1], owned by the caller.</returns>
    /// <exception cref="ArgumentException"><paramref name="pixels01"/> is not a floating-point [3, H, W] tensor.</exception>
    public torch.Tensor ApplyPixels01(torch.Tensor pixels01, Random random)
    {
        CheckImage(pixels01);
        ArgumentNullException.ThrowIfNull(random);
        var box = SampleCrop((int)pixels01.shape[1], (int)pixels01.shape[2], random);
        var flip = random.NextDouble() < Options.FlipProbability;

        using var crop = pixels01.narrow(1, box.Top, box.Height).narrow(2, box.Left, box.Width);
        var resized = TensorResize.Bicubic(crop, ImageSize, ImageSize);
        if (!flip)
            return resized;
        using (resized)
            return resized.flip(2);
    }

    /// <summary>
    /// torchvision's <c>RandomResizedCrop.get_params</c>: up to <see cref="CoOpAugmentationOptions.MaxAttempts"/>
    /// draws of an area fraction (uniform in the scale range) and an aspect ratio (log-uniform in the ratio range),
    /// taking the first that fits at a uniformly random position; otherwise the centre crop with the aspect ratio
    /// clamped to the ratio range. Sizes round half to even, like Python's <c>round</c>.
    /// </summary>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="random">The source of randomness.</param>
    /// <returns>The crop.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    internal CropBox SampleCrop(int height, int width, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentNullException.ThrowIfNull(random);
        var o = Options;
        var area = (double)height * width;
        var (logMin, logMax) = (Math.Log(o.MinRatio), Math.Log(o.MaxRatio));
        for (var attempt = 0; attempt < o.MaxAttempts; attempt++)
        {
            var targetArea = area * Uniform(random, o.MinScale, o.MaxScale);
            var aspect = Math.Exp(Uniform(random, logMin, logMax));
            var w = (int)Math.Round(Math.Sqrt(targetArea * aspect));
            var h = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                // torch.randint(0, n + 1) for both offsets, rows first.
                var top = random.Next(height - h + 1);
                var left = random.Next(width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }

        var inRatio = (double)width / height;
        int cropW, cropH;
        if (inRatio < o.MinRatio)
        {
            cropW = width;
            cropH = (int)Math.Round(cropW / o.MinRatio);
        }
        else if (inRatio > o.MaxRatio)
        {
            cropH = height;
            cropW = (int)Math.Round(cropH * o.MaxRatio);
        }
        else
        {
            (cropW, cropH) = (width, height);
        }
        // Tiny images can round a side to 0; keep at least one pixel so the crop is never empty.
        cropW = Math.Clamp(cropW, 1, width);
        cropH = Math.Clamp(cropH, 1, height);
        return new CropBox((height - cropH) / 2, (width - cropW) / 2, cropH, cropW);
    }

    private static double Uniform(Random random, double min, double max) => min + (max - min) * random.NextDouble();

    internal static void CheckImage(torch.Tensor pixels01)
    {
        ArgumentNullException.ThrowIfNull(pixels01);
        if (pixels01.dim() != 3 || pixels01.shape[0] != 3 || pixels01.shape[1] == 0 || pixels01.shape[2] == 0 || !torch.is_floating_point(pixels01))
            throw new ArgumentException($"Expected a floating-point [3, H, W] image in [0, 1], got {pixels01.dtype} [{string.Join(", ", pixels01.shape)}].", nameof(pixels01));
    }
}
