using static TorchSharp.torch;

namespace Rvpt;

/// <summary>Output of the prompted branch: image features and the class token after each block D+1..L.</summary>
/// <param name="ImageFeatures">Raw (not normalised) image features <c>ln_post(c^L) @ proj</c>, <c>[N, embedDim]</c>.</param>
/// <param name="ClassTokens">Class tokens of the residual stream after blocks D+1..L, <c>[N, L - D, width]</c>.</param>
public sealed record PromptedOutput(Tensor ImageFeatures, Tensor ClassTokens);
