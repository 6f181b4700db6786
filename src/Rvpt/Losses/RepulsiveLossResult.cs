using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// The terms of one <see cref="RepulsiveLoss"/> evaluation. It owns its tensors (created in the caller's dispose
/// scope): dispose it, or let that scope dispose them.
/// </summary>
public sealed class RepulsiveLossResult : IDisposable
{
    /// <summary>Wraps the four tensors (taking ownership).</summary>
    /// <param name="total">L = L_CE + alpha * L_FR (0-d).</param>
    /// <param name="crossEntropy">L_CE (0-d).</param>
    /// <param name="repelling">L_FR (0-d).</param>
    /// <param name="logits">The logits, <c>[N, classes]</c>.</param>
    public RepulsiveLossResult(Tensor total, Tensor crossEntropy, Tensor repelling, Tensor logits)
    {
        Total = total;
        CrossEntropy = crossEntropy;
        Repelling = repelling;
        Logits = logits;
    }

    /// <summary>L = L_CE + alpha * L_FR (0-d; call <c>backward()</c> on it).</summary>
    public Tensor Total { get; }

    /// <summary>L_CE over CLIP's zero-shot logits (0-d).</summary>
    public Tensor CrossEntropy { get; }

    /// <summary>L_FR: mean cosine between prompted and frozen class tokens, after the margin if any (0-d).</summary>
    public Tensor Repelling { get; }

    /// <summary>The logits <c>exp(logit_scale) * cos(image, class text)</c>, <c>[N, classes]</c>.</summary>
    public Tensor Logits { get; }

    /// <summary>Disposes the four tensors.</summary>
    public void Dispose()
    {
        Total.Dispose();
        CrossEntropy.Dispose();
        Repelling.Dispose();
        Logits.Dispose();
    }
}
