using Rvpt.Clip;

namespace Rvpt.Benchmarks;

/// <summary>
/// Analytic floating-point operation counts (multiply + add = 2) of the ViT image tower, counting matrix products
/// only (the convolution, projections, attention products and MLP; layer norms, softmax and element-wise work are
/// below 1%). Per image and block with T tokens and width W: <c>24 T W^2 + 4 T^2 W</c> forward (QKV 6TW², output 2TW²,
/// MLP 16TW², scores + weighted sum 4T²W). The backward of a frozen block needs only the input gradient: one product
/// per weight matrix (24TW²) and two per attention product (8T²W).
/// </summary>
public static class StepFlops
{
    /// <summary>Forward FLOPs of one block for one image.</summary>
    public static double BlockForward(double tokens, double width) => 24 * tokens * width * width + 4 * tokens * tokens * width;

    /// <summary>Input-gradient FLOPs of one frozen block for one image.</summary>
    public static double BlockBackward(double tokens, double width) => 24 * tokens * width * width + 8 * tokens * tokens * width;

    /// <summary>Patch embedding (conv) + final projection for one image.</summary>
    public static double EmbedAndPool(ClipConfig config)
    {
        var v = config.Vision;
        double patches = v.GridSize * v.GridSize;
        return 2 * patches * 3 * v.PatchSize * v.PatchSize * v.Width + 2.0 * v.Width * config.EmbedDim;
    }

    /// <summary>Plain image-tower forward for <paramref name="batch"/> images.</summary>
    public static double Forward(ClipConfig config, int batch)
    {
        var v = config.Vision;
        return batch * (EmbedAndPool(config) + v.Layers * BlockForward(v.TokenCount, v.Width));
    }

    /// <summary>
    /// One RVPT step for <paramref name="batch"/> images: embedding, trunk (D blocks, T tokens), frozen branch (L - D
    /// blocks, T tokens), prompted branch forward (L - D blocks, T + b tokens) and its backward, and the class logits.
    /// </summary>
    public static double RvptStep(ClipConfig config, int batch, int depth, int promptTokens, int classes)
    {
        var v = config.Vision;
        double t = v.TokenCount, tp = t + promptTokens, w = v.Width;
        int prompted = v.Layers - depth;
        double perImage = EmbedAndPool(config)
            + depth * BlockForward(t, w)
            + prompted * BlockForward(t, w)
            + prompted * (BlockForward(tp, w) + BlockBackward(tp, w))
            + 2.0 * v.Width * config.EmbedDim                 // backward through the projection
            + 2 * 2.0 * config.EmbedDim * classes;           // logits and their gradient
        return batch * perImage;
    }
}
