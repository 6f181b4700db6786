namespace Rvpt;

/// <summary>What the repelling term compares at each block (an ablation of the paper's loss).</summary>
public enum RepelledFeature
{
    /// <summary>
    /// The raw class token of the residual stream, before any LayerNorm: the paper's loss as this library reads it
    /// (the paper does not say; inferred, see docs/rvpt.md). Default.
    /// </summary>
    RawClassToken,

    /// <summary>
    /// The class token normalised per block across its width (zero mean, unit variance, no affine; the cosine then is
    /// the Pearson correlation of the two tokens), so an offset shared by every channel of the residual stream no longer
    /// counts (ablation, not in the paper's method).
    /// </summary>
    NormalizedClassToken,
}
