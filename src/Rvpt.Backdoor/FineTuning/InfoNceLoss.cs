using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// The one InfoNCE of the backdoor code and the lab (issue 15): contrastive fine-tuning, CleanCLIP's multimodal and
/// in-modality terms, BadCLIP's caption term and the synthetic pre-training all call it. Each caller normalises its
/// features and exponentiates its logit scale as before, so the numbers are unchanged.
/// </summary>
internal static class InfoNceLoss
{
    /// <summary>
    /// <c>CE(L, i)</c>, or with <paramref name="symmetric"/> <c>(CE(L, i) + CE(Lᵀ, i)) / 2</c>, where
    /// <c>L = scale * a bᵀ</c> and row i of <paramref name="b"/> is the positive of row i of <paramref name="a"/>.
    /// </summary>
    /// <param name="a">[N, D] L2-normalised features.</param>
    /// <param name="b">[N, D] L2-normalised features.</param>
    /// <param name="scale">The multiplier of the cosine similarities (CLIP's <c>exp(logit_scale)</c>), a scalar tensor.</param>
    /// <param name="symmetric">Average both directions (CLIP) instead of rows of <paramref name="a"/> only.</param>
    /// <returns>A scalar loss in the caller's dispose scope.</returns>
    public static Tensor Compute(Tensor a, Tensor b, Tensor scale, bool symmetric = true)
    {
        using var scope = NewDisposeScope();
        var logits = scale * a.matmul(b.t());
        var targets = arange(logits.shape[0], dtype: ScalarType.Int64, device: logits.device);
        var loss = symmetric
            ? (nn.functional.cross_entropy(logits, targets) + nn.functional.cross_entropy(logits.t(), targets)) / 2
            : nn.functional.cross_entropy(logits, targets);
        return loss.MoveToOuterDisposeScope();
    }
}
