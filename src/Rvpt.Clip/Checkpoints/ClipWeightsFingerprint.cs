using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// A SHA-256 over every weight's name, shape and values rounded to float32 (keys in ordinal order): identifies a
/// model's weights whatever dtype holds them, as long as the values are the same (a float16 checkpoint loaded as float32
/// and as float16 gives one fingerprint; its bfloat16 copy, whose values are rounded, another). To decide whether two
/// models are the same weights held in different precisions, and what differs, use <see cref="ClipWeightsSignature"/>.
/// </summary>
public static class ClipWeightsFingerprint
{
    /// <summary>Computes the lower-case hex fingerprint of <paramref name="model"/>'s weights (<see cref="ClipWeightsSignature.Digest"/>).</summary>
    public static string Compute(ClipModel model) => ClipWeightsSignature.Compute(model).Digest;
}
