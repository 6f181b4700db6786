using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>A frozen <see cref="ResidualAttentionBlock"/> with seeded weights, the same for every dtype.</summary>
internal static class SeededBlock
{
    public static ResidualAttentionBlock Create(int width, int heads, bool causal, ScalarType dtype, ulong seed)
    {
        var block = new ResidualAttentionBlock(width, heads, 4 * width, ClipActivation.QuickGelu, 1e-5, causal);
        using var g = new Generator(seed, CPU);
        using (no_grad())
        {
            // Non-trivial LayerNorm affines and biases, so every term of the block matters.
            foreach (var (name, p) in block.named_parameters())
            {
                if (name.EndsWith("bias", StringComparison.Ordinal)) p.copy_(0.1 * randn(p.shape, generator: g));
                else if (name.StartsWith("ln_", StringComparison.Ordinal)) p.copy_(1 + 0.2 * randn(p.shape, generator: g));
                else p.copy_(randn(p.shape, generator: g) / Math.Sqrt(p.shape[^1]));
            }
        }
        block.to(dtype);
        foreach (var p in block.parameters()) p.requires_grad = false;
        return block;
    }
}
