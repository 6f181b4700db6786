using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>CLIP's pre-LN transformer block: <c>x + attn(ln_1(x))</c>, then <c>x + mlp(ln_2(x))</c>.</summary>
public sealed class ResidualAttentionBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly ClipAttention attn;
    private readonly ClipLayerNorm ln_1;
    private readonly ClipMlp mlp;
    private readonly ClipLayerNorm ln_2;
#pragma warning restore IDE1006

    /// <summary>Creates a block.</summary>
    public ResidualAttentionBlock(int width, int heads, int mlpWidth, ClipActivation activation, double eps, bool causal)
        : base(nameof(ResidualAttentionBlock))
    {
        attn = new ClipAttention(width, heads, causal);
        ln_1 = new ClipLayerNorm(width, eps);
        mlp = new ClipMlp(width, mlpWidth, activation);
        ln_2 = new ClipLayerNorm(width, eps);
        RegisterComponents();
    }

    /// <summary>Applies the block to <c>[N, T, width]</c> (batch first).</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input + attn.forward(ln_1.forward(input));
        x = x + mlp.forward(ln_2.forward(x));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The block's output at position 0 alone, <c>[N, 1, width]</c>: <c>ln_1</c> and the keys and values over every
    /// position, then the query, attention output, <c>ln_2</c> and MLP for position 0 only
    /// (<see cref="ClipAttention.ForwardFirstToken"/>). Equals <c>forward(input).narrow(1, 0, 1)</c> up to
    /// floating-point rounding, gradients included; for the last block of a ViT, whose output is read only at the
    /// class token, it skips most of the block (at ViT-B/32's 50 tokens: the MLP and the output projection of 49).
    /// </summary>
    public Tensor ForwardFirstToken(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input.narrow(1, 0, 1) + attn.ForwardFirstToken(ln_1.forward(input));
        x = x + mlp.forward(ln_2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}
