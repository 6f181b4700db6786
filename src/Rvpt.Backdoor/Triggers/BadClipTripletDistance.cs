namespace Rvpt.Backdoor;

/// <summary>The distance of <c>BadClipPatch.Optimize</c>'s triplet term.</summary>
public enum BadClipTripletDistance
{
    /// <summary>
    /// As BadCLIP's code: PyTorch's <c>nn.TripletMarginLoss</c> (p = 2, eps 1e-6: <c>||a - b + eps||</c>) on the
    /// normalised embeddings. The default.
    /// </summary>
    Euclidean,

    /// <summary>Rvpt's earlier choice: cosine distance <c>1 - cos</c>.</summary>
    Cosine,
}
