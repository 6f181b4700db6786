namespace Rvpt.Clip;

/// <summary>
/// One weight's part of a <see cref="ClipWeightsSignature"/>: its shape and a hash of its values rounded to each of
/// float32, float16 and bfloat16 (the first 16 hex digits of a SHA-256 over the rounded values' little-endian bytes).
/// </summary>
/// <param name="Shape">The tensor's shape.</param>
/// <param name="Float32">Hash of the values rounded to float32.</param>
/// <param name="Float16">Hash of the values rounded to float16 (round to nearest even, as libtorch converts).</param>
/// <param name="BFloat16">Hash of the values rounded to bfloat16 (round to nearest even).</param>
public sealed record ClipTensorSignature(IReadOnlyList<long> Shape, string Float32, string Float16, string BFloat16)
{
    /// <summary>
    /// Whether <paramref name="other"/> holds the same values up to the precision of a storage dtype: same shape, and
    /// equal after rounding both to float32, or both to float16, or both to bfloat16.
    /// </summary>
    public bool SameValues(ClipTensorSignature other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Shape.SequenceEqual(other.Shape) && (Float32 == other.Float32 || Float16 == other.Float16 || BFloat16 == other.BFloat16);
    }
}
