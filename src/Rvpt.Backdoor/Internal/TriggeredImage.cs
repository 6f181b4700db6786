using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>The two halves of <see cref="TriggerPlacement"/>: the image a trigger sees, and what follows the trigger.</summary>
internal static class TriggeredImage
{
    /// <summary>
    /// The <c>[3, S, S]</c> image a trigger is applied to: the centre crop, or the whole image resized to S x S
    /// (bicubic, antialiased, clamped to [0, 1], like CLIP's own resize in <see cref="ClipEvalTransform"/>).
    /// </summary>
    internal static Tensor BeforeTrigger(Tensor raw, TriggerPlacement placement, ClipEvalTransform transform)
    {
        if (placement == TriggerPlacement.AfterCentreCrop) return transform.ApplyPixels01(raw);
        if (raw.dim() != 3 || raw.shape[0] != 3 || !is_floating_point(raw.dtype))
            throw new ArgumentException($"Expected a floating-point [3, H, W] image; got {raw.dtype} [{string.Join(", ", raw.shape)}].", nameof(raw));
        return ResizeToSquare(raw, transform.ImageSize);
    }

    /// <summary>A <c>[3, H, W]</c> image resized to <c>[3, size, size]</c>: bicubic, antialiased, clamped to [0, 1] (a copy when already that size).</summary>
    internal static Tensor ResizeToSquare(Tensor raw, long size)
    {
        if (raw.shape[1] == size && raw.shape[2] == size) return raw.clone();
        using var scope = NewDisposeScope();
        var resized = nn.functional.interpolate(raw.unsqueeze(0), new long[] { size, size }, mode: InterpolationMode.Bicubic,
            align_corners: false, antialias: true).clamp(0, 1).squeeze(0);
        return resized.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// What follows the trigger on a <c>[N, 3, S, S]</c> batch: for <see cref="TriggerPlacement.ResizeThenTrigger"/> the
    /// 8-bit round trip of torchvision's <c>ToPILImage</c> (<see cref="ToUint8RoundTrip"/>); CLIP's resize and crop are
    /// the identity at S x S.
    /// </summary>
    internal static Tensor AfterTrigger(Tensor triggered, TriggerPlacement placement) =>
        placement == TriggerPlacement.ResizeThenTrigger ? ToUint8RoundTrip(triggered) : triggered.alias();

    /// <summary>
    /// torchvision's <c>ToPILImage</c> then <c>ToTensor</c> on a float image: <c>mul(255)</c>, libtorch's cast to uint8
    /// (truncation; values outside [0, 1] wrap modulo 256, as that cast does), divided by 255 in the input dtype.
    /// </summary>
    internal static Tensor ToUint8RoundTrip(Tensor images)
    {
        using var scope = NewDisposeScope();
        var bytes = images.to_type(ScalarType.Float32).mul(255).to_type(ScalarType.Byte);
        return bytes.to_type(ScalarType.Float32).div(255).to_type(images.dtype).MoveToOuterDisposeScope();
    }
}
