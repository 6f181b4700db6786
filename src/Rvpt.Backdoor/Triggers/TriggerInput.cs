using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>Input validation and 224-relative size scaling shared by the triggers.</summary>
internal static class TriggerInput
{
    /// <summary>The image side at which trigger sizes and positions are specified.</summary>
    internal const int ReferenceSize = 224;

    /// <summary>Throws unless <paramref name="images"/> is a floating-point <c>[N, 3, H, W]</c> batch with H, W &gt; 0.</summary>
    internal static void Validate(Tensor images, string paramName)
    {
        ArgumentNullException.ThrowIfNull(images, paramName);
        var shape = images.shape;
        if (shape.Length != 4 || shape[1] != 3 || shape[2] < 1 || shape[3] < 1)
            throw new ArgumentException(
                $"Images must be [N, 3, H, W] with H, W >= 1; got shape [{string.Join(", ", shape)}].", paramName);
        if (!is_floating_point(images.dtype))
            throw new ArgumentException($"Images must have a floating-point dtype; got {images.dtype}.", paramName);
    }

    /// <summary>
    /// Scales a length given at 224 to an image dimension: round(length * dim / 224), half away from zero,
    /// at least 1 (a trigger must never vanish on small images).
    /// </summary>
    internal static long ScaleLength(int lengthAt224, long dim) =>
        Math.Max(1L, (long)Math.Round((double)lengthAt224 * dim / ReferenceSize, MidpointRounding.AwayFromZero));

    /// <summary>Scales a coordinate given at 224 to an image dimension (may be 0, unlike lengths).</summary>
    internal static long ScaleCoordinate(int coordinateAt224, long dim) =>
        (long)Math.Round((double)coordinateAt224 * dim / ReferenceSize, MidpointRounding.AwayFromZero);
}
