using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// A backdoor trigger applied to images in pixel space, after resizing (as the paper does) and before CLIP
/// normalisation. Sizes given in pixels are defined at 224 x 224 and scale with the image size.
/// </summary>
public interface ITrigger
{
    /// <summary>Short name for reports ("BadNets", "Blended", ...).</summary>
    string Name { get; }

    /// <summary>
    /// Text that poisoned captions carry (TrojVQA's key, e.g. "remember "), or null for image-only triggers.
    /// </summary>
    string? TextKey { get; }

    /// <summary>
    /// Returns triggered copies of <paramref name="images"/>, <c>[N, 3, H, W]</c> float in [0, 1] on any device
    /// (the input is not modified; the result is in [0, 1] and belongs to the caller's dispose scope). Random choices
    /// (such as patch positions) depend only on <paramref name="seed"/> and the row index.
    /// </summary>
    Tensor Apply(Tensor images, long seed = 0);
}
