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

    /// <summary>
    /// The block's output at every position but the <paramref name="count"/> from <paramref name="start"/>,
    /// <c>[N, T - count, width]</c> in the input's order: <c>ln_1</c> and the keys and values over every position, the
    /// queries, attention output, <c>ln_2</c> and MLP for the kept positions only. Equals <c>forward(input)</c> without
    /// those rows up to floating-point rounding, gradients included. For deep visual prompts, whose outputs the next
    /// block replaces with fresh prompts, it skips their share of the block (at ViT-B/32 with 50 prompts, about
    /// 40% of a prompted block's products). Non-causal blocks only (a vision tower's).
    /// </summary>
    /// <exception cref="InvalidOperationException">The block is causal (a text tower's).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The skipped range is not inside the input's positions.</exception>
    public Tensor ForwardSkipping(Tensor input, long start, long count)
    {
        if (attn.IsCausal) throw new InvalidOperationException("ForwardSkipping needs a non-causal block: a causal position sees only earlier ones.");
        long t = input.shape[1];
        if (start < 0 || count < 0 || start + count > t)
            throw new ArgumentOutOfRangeException(nameof(count), $"Positions {start}..{start + count - 1} are not inside the input's {t} positions.");
        using var scope = NewDisposeScope();
        var h = ln_1.forward(input);
        var x = Without(input, start, count) + attn.ForwardQueries(Without(h, start, count), h);
        x = x + mlp.forward(ln_2.forward(x));
        return x.MoveToOuterDisposeScope();
    }

    private static Tensor Without(Tensor x, long start, long count)
    {
        long t = x.shape[1];
        if (count == 0) return x;
        if (start == 0) return x.narrow(1, count, t - count);
        if (start + count == t) return x.narrow(1, 0, start);
        return cat(new[] { x.narrow(1, 0, start), x.narrow(1, start + count, t - start - count) }, 1);
    }
}
