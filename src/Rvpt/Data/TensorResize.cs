using TorchSharp;

namespace Rvpt;

/// <summary>Bicubic resizing of [3, H, W] [0, 1] pixel tensors, as torchvision does on tensors with <c>antialias=True</c>.</summary>
internal static class TensorResize
{
    /// <summary>Resizes a [3, H, W] tensor to [3, height, width] and clamps to [0, 1].</summary>
    /// <remarks>Bicubic overshoots near edges, so the clamp keeps the result a valid [0, 1] pixel image (as PIL's uint8 round trip does).</remarks>
    public static torch.Tensor Bicubic(torch.Tensor chw, int height, int width)
    {
        if (chw.shape[1] == height && chw.shape[2] == width)
            return chw.clone();
        using var batch = chw.unsqueeze(0);
        using var resized = torch.nn.functional.interpolate(batch, size: [height, width],
            mode: torch.InterpolationMode.Bicubic, align_corners: false, antialias: true);
        using var clamped = resized.clamp(0.0, 1.0);
        return clamped.squeeze(0);
    }
}
