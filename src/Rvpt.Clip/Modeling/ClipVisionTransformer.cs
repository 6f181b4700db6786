using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// CLIP's ViT image tower (<c>visual.*</c> in OpenAI checkpoints). Besides the plain forward pass it exposes its
/// stages — <see cref="Embed"/>, <see cref="Blocks"/>, <see cref="Pool"/> — so that adapters such as deep visual
/// prompts can run the blocks themselves.
/// </summary>
public sealed class ClipVisionTransformer : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Parameter class_embedding;
    private readonly Parameter positional_embedding;
    private readonly Conv2d conv1;
    private readonly ClipLayerNorm ln_pre;
    private readonly ClipTransformer transformer;
    private readonly ClipLayerNorm ln_post;
    private readonly Parameter proj;
#pragma warning restore IDE1006

    /// <summary>Creates an image tower with the given architecture (weights are placeholders until loaded or initialised).</summary>
    public ClipVisionTransformer(ClipVisionConfig config, int embedDim, ClipActivation activation, double eps)
        : base(nameof(ClipVisionTransformer))
    {
        Config = config;
        int w = config.Width;
        class_embedding = new Parameter(zeros(w));
        positional_embedding = new Parameter(zeros(config.TokenCount, w));
        conv1 = nn.Conv2d(3, w, config.PatchSize, stride: config.PatchSize, bias: false);
        ln_pre = new ClipLayerNorm(w, eps);
        transformer = new ClipTransformer(w, config.Layers, config.Heads, config.ResolvedMlpWidth, activation, eps, causal: false);
        ln_post = new ClipLayerNorm(w, eps);
        proj = new Parameter(zeros(w, embedDim));
        RegisterComponents();
    }

    /// <summary>The tower's architecture.</summary>
    public ClipVisionConfig Config { get; }

    /// <summary>The residual blocks B_1..B_L, in order.</summary>
    public IReadOnlyList<ResidualAttentionBlock> Blocks => transformer.Blocks;

    /// <summary>Class token embedding <c>[width]</c>.</summary>
    public Parameter ClassEmbedding => class_embedding;

    /// <summary>Positional embedding <c>[tokens, width]</c>.</summary>
    public Parameter PositionalEmbedding => positional_embedding;

    /// <summary>Projection to the joint embedding <c>[width, embedDim]</c>.</summary>
    public Parameter Projection => proj;

    /// <summary>Patch-embedding convolution (<c>conv1</c>).</summary>
    public Conv2d PatchEmbedding => conv1;

    /// <summary>
    /// Patch embedding, class token, positional embedding and <c>ln_pre</c>: <c>[N, 3, S, S]</c> pixels to the
    /// block-0 input <c>[N, 1 + grid², width]</c> (class token first, patches row-major).
    /// </summary>
    /// <exception cref="ArgumentException">The pixel tensor does not have shape <c>[N, 3, S, S]</c>.</exception>
    public Tensor Embed(Tensor pixelValues)
    {
        CheckPixels(pixelValues);
        using var scope = NewDisposeScope();
        var x = conv1.forward(pixelValues.to_type(conv1.weight!.dtype)); // [N, W, g, g]
        x = x.flatten(2).transpose(1, 2);                                  // [N, g², W]
        var cls = class_embedding.to_type(x.dtype).expand(x.shape[0], 1, -1);
        x = cat(new[] { cls, x }, 1) + positional_embedding.to_type(x.dtype);
        return ln_pre.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary><c>ln_post</c> of the class token of <c>[N, T, width]</c> tokens, then the projection: <c>[N, embedDim]</c>.</summary>
    public Tensor Pool(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var pooled = ln_post.forward(hidden.select(1, 0));
        return pooled.matmul(proj.to_type(pooled.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary><c>ln_post</c> only (no projection) of the class token: <c>[N, width]</c>.</summary>
    public Tensor PoolWithoutProjection(Tensor hidden) => ln_post.forward(hidden.select(1, 0));

    /// <summary>Image embeddings <c>[N, embedDim]</c> (not normalised) for pixels <c>[N, 3, S, S]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return Pool(transformer.forward(Embed(input))).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the tower and keeps the requested intermediate states. The caller disposes the result.</summary>
    public ClipVisionOutput Encode(Tensor pixelValues, VisionHiddenStates keep = VisionHiddenStates.ClassTokens)
    {
        using var scope = NewDisposeScope();
        var x = Embed(pixelValues);
        var classTokens = new List<Tensor>();
        var sequences = new List<Tensor>();
        foreach (var block in Blocks)
        {
            x = block.forward(x);
            if (keep.HasFlag(VisionHiddenStates.ClassTokens)) classTokens.Add(x.select(1, 0).MoveToOuterDisposeScope());
            if (keep.HasFlag(VisionHiddenStates.Sequences)) sequences.Add(x.alias().MoveToOuterDisposeScope());
        }
        var pooled = PoolWithoutProjection(x);
        var embeds = pooled.matmul(proj.to_type(pooled.dtype));
        return new ClipVisionOutput(embeds.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope(),
            x.MoveToOuterDisposeScope(), classTokens, sequences);
    }

    private void CheckPixels(Tensor pixels)
    {
        int s = Config.ImageSize;
        if (pixels.dim() != 4 || pixels.shape[1] != 3 || pixels.shape[2] != s || pixels.shape[3] != s)
            throw new ArgumentException(
                $"Expected pixel values of shape [N, 3, {s}, {s}], got [{string.Join(", ", pixels.shape)}].", nameof(pixels));
    }
}
