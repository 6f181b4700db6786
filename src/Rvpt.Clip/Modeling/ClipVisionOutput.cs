using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>Which intermediate vision states <see cref="ClipVisionTransformer.Encode"/> keeps.</summary>
[Flags]
public enum VisionHiddenStates
{
    /// <summary>Only the image embedding and the last block's output.</summary>
    None = 0,

    /// <summary>The class token of the residual stream after every block (before <c>ln_post</c>), <c>[N, width]</c> each.</summary>
    ClassTokens = 1,

    /// <summary>The full token sequence after every block, <c>[N, tokens, width]</c> each.</summary>
    Sequences = 2,

    /// <summary>Both class tokens and full sequences.</summary>
    All = ClassTokens | Sequences,
}

/// <summary>
/// Result of a vision forward pass. Owns its tensors: dispose it (or move the tensors you keep out of it with
/// <see cref="Tensor.DetachFromDisposeScope"/>) when done.
/// </summary>
public sealed class ClipVisionOutput : IDisposable
{
    internal ClipVisionOutput(Tensor imageEmbeds, Tensor pooled, Tensor lastHiddenState,
        IReadOnlyList<Tensor> classTokens, IReadOnlyList<Tensor> hiddenStates)
    {
        ImageEmbeds = imageEmbeds;
        Pooled = pooled;
        LastHiddenState = lastHiddenState;
        ClassTokens = classTokens;
        HiddenStates = hiddenStates;
    }

    /// <summary><c>ln_post(class token) @ proj</c>, <c>[N, embedDim]</c>, not L2-normalised.</summary>
    public Tensor ImageEmbeds { get; }

    /// <summary><c>ln_post(class token)</c> before the projection, <c>[N, width]</c>.</summary>
    public Tensor Pooled { get; }

    /// <summary>All tokens after the last block (before <c>ln_post</c>), <c>[N, tokens, width]</c>.</summary>
    public Tensor LastHiddenState { get; }

    /// <summary>Class token after each block (index 0 = block 1), when requested; otherwise empty.</summary>
    public IReadOnlyList<Tensor> ClassTokens { get; }

    /// <summary>Token sequence after each block (index 0 = block 1), when requested; otherwise empty.</summary>
    public IReadOnlyList<Tensor> HiddenStates { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        ImageEmbeds.Dispose();
        Pooled.Dispose();
        LastHiddenState.Dispose();
        foreach (var t in ClassTokens) t.Dispose();
        foreach (var t in HiddenStates) t.Dispose();
    }
}
