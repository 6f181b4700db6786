using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>The feed-forward part of a residual block: <c>c_proj(act(c_fc(x)))</c>.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Linear c_fc;
    private readonly Linear c_proj;
#pragma warning restore IDE1006
    private readonly ClipActivation _activation;

    /// <summary>Creates the MLP <c>width -&gt; hidden -&gt; width</c>.</summary>
    public ClipMlp(int width, int hidden, ClipActivation activation) : base(nameof(ClipMlp))
    {
        c_fc = nn.Linear(width, hidden);
        c_proj = nn.Linear(hidden, width);
        _activation = activation;
        RegisterComponents();
    }

    /// <summary>Applies the MLP to <c>[..., width]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = c_fc.forward(input);
        h = _activation == ClipActivation.QuickGelu
            ? h * nn.functional.sigmoid(h * 1.702)
            : nn.functional.gelu(h);
        return c_proj.forward(h).MoveToOuterDisposeScope();
    }
}
