using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Output of the prompted branch: image features and the class token after each block D+1..L. It owns both tensors:
/// dispose it, or let the dispose scope it was created in dispose them.
/// </summary>
public sealed class PromptedOutput : IDisposable
{
    /// <summary>Wraps the two tensors (taking ownership).</summary>
    /// <param name="imageFeatures">Raw (not normalised) image features <c>ln_post(c^L) @ proj</c>, <c>[N, embedDim]</c>.</param>
    /// <param name="classTokens">Class tokens of the residual stream after blocks D+1..L, <c>[N, L - D, width]</c>.</param>
    public PromptedOutput(Tensor imageFeatures, Tensor classTokens)
    {
        ArgumentNullException.ThrowIfNull(imageFeatures);
        ArgumentNullException.ThrowIfNull(classTokens);
        ImageFeatures = imageFeatures;
        ClassTokens = classTokens;
    }

    /// <summary>Raw (not normalised) image features <c>ln_post(c^L) @ proj</c>, <c>[N, embedDim]</c>.</summary>
    public Tensor ImageFeatures { get; }

    /// <summary>Class tokens of the residual stream after blocks D+1..L, <c>[N, L - D, width]</c>.</summary>
    public Tensor ClassTokens { get; }

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        ImageFeatures.Dispose();
        ClassTokens.Dispose();
    }
}
