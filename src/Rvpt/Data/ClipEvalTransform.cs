using Rvpt.Clip;
using TorchSharp;

namespace Rvpt;

/// <summary>
/// CLIP's evaluation preprocessing on [3, H, W] [0, 1] pixel tensors: resize the short side to S (bicubic, antialiased,
/// clamped to [0, 1]), centre crop S x S, normalise. Same geometry as <see cref="ClipImageProcessor"/>
/// (torchvision's truncated long side and round-half-to-even offsets).
/// </summary>
/// <remarks>
/// For image files, <see cref="ClipImageProcessor.Load"/> is exact (Pillow's resampler on 8-bit pixels); this tensor
/// version differs from it by resampling arithmetic only (float pixels, no 8-bit rounding after the resize), which
/// is small but not zero. The instance is immutable and thread-safe.
/// </remarks>
public sealed class ClipEvalTransform
{
    private readonly ClipImageProcessor processor;

    /// <summary>Creates the transform.</summary>
    /// <param name="processor">Gives the size S and the normalisation.</param>
    public ClipEvalTransform(ClipImageProcessor processor)
    {
        ArgumentNullException.ThrowIfNull(processor);
        this.processor = processor;
    }

    /// <summary>Output side S.</summary>
    public int ImageSize => processor.ImageSize;

    /// <summary>Resize, centre crop and normalise.</summary>
    /// <param name="pixels01">A floating-point [3, H, W] image in [0, 1]; it is not modified.</param>
    /// <returns>A new normalised [3, S, S] tensor, owned by the caller.</returns>
    /// <exception cref="ArgumentException"><paramref name="pixels01"/> is not a floating-point [3, H, W] tensor, or its aspect ratio is too extreme.</exception>
    public torch.Tensor Apply(torch.Tensor pixels01)
    {
        using var cropped = ApplyPixels01(pixels01);
        return processor.Normalize(cropped);
    }

    /// <summary>Resize and centre crop, without normalisation.</summary>
    /// <param name="pixels01">A floating-point [3, H, W] image in [0, 1]; it is not modified.</param>
    /// <returns>A new [3, S, S] tensor in [0, 1], owned by the caller.</returns>
    /// <exception cref="ArgumentException"><paramref name="pixels01"/> is not a floating-point [3, H, W] tensor, or its aspect ratio is too extreme.</exception>
    public torch.Tensor ApplyPixels01(torch.Tensor pixels01)
    {
        CoOpAugmentation.CheckImage(pixels01);
        var geometry = processor.GetGeometry((int)pixels01.shape[2], (int)pixels01.shape[1]);
        using var resized = TensorResize.Bicubic(pixels01, geometry.ResizedHeight, geometry.ResizedWidth);
        // After a short-side resize to S the crop always lies inside the image (offsets >= 0).
        using var crop = resized.narrow(1, geometry.CropTop, ImageSize).narrow(2, geometry.CropLeft, ImageSize);
        return crop.clone();
    }
}
