using static TorchSharp.torch;

namespace Rvpt;

/// <summary>The terms of one <see cref="RepulsiveLoss"/> evaluation (tensors in the caller's dispose scope).</summary>
/// <param name="Total">L = L_CE + alpha * L_FR (0-d; call <c>backward()</c> on it).</param>
/// <param name="CrossEntropy">L_CE over CLIP's zero-shot logits (0-d).</param>
/// <param name="Repelling">L_FR: mean cosine between prompted and frozen class tokens, after the margin if any (0-d).</param>
/// <param name="Logits">The logits <c>exp(logit_scale) * cos(image, class text)</c>, <c>[N, classes]</c>.</param>
public sealed record RepulsiveLossResult(Tensor Total, Tensor CrossEntropy, Tensor Repelling, Tensor Logits);
