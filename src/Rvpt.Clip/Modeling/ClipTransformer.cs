using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>A stack of <see cref="ResidualAttentionBlock"/>s (<c>transformer.resblocks.{i}</c>).</summary>
internal sealed class ClipTransformer : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly ModuleList<ResidualAttentionBlock> resblocks;
#pragma warning restore IDE1006

    /// <summary>Creates <paramref name="layers"/> blocks.</summary>
    public ClipTransformer(int width, int layers, int heads, int mlpWidth, ClipActivation activation, double eps, bool causal)
        : base(nameof(ClipTransformer))
    {
        resblocks = new ModuleList<ResidualAttentionBlock>(Enumerable.Range(0, layers)
            .Select(_ => new ResidualAttentionBlock(width, heads, mlpWidth, activation, eps, causal)).ToArray());
        RegisterComponents();
        Blocks = resblocks.ToList().AsReadOnly();
    }

    /// <summary>The blocks, in order.</summary>
    public IReadOnlyList<ResidualAttentionBlock> Blocks { get; }

    /// <summary>Runs every block on <c>[N, T, width]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var block in Blocks) x = block.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}
