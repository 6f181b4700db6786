using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// LayerNorm that, like OpenAI's <c>clip.model.LayerNorm</c>, normalises in float32 and casts back, so half and
/// bfloat16 models keep the statistics accurate. Parameter names <c>weight</c>/<c>bias</c> match the checkpoints.
/// </summary>
public sealed class ClipLayerNorm : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Parameter weight;
    private readonly Parameter bias;
#pragma warning restore IDE1006
    private readonly long[] _shape;
    private readonly double _eps;

    /// <summary>Creates a LayerNorm over the last dimension of size <paramref name="width"/>.</summary>
    public ClipLayerNorm(int width, double eps) : base(nameof(ClipLayerNorm))
    {
        _shape = new long[] { width };
        _eps = eps;
        weight = new Parameter(ones(width));
        bias = new Parameter(zeros(width));
        RegisterComponents();
    }

    /// <summary>Normalises the last dimension of <paramref name="input"/>.</summary>
    public override Tensor forward(Tensor input)
    {
        if (input.dtype == ScalarType.Float32 || input.dtype == ScalarType.Float64)
            return nn.functional.layer_norm(input, _shape, weight, bias, _eps);
        using var scope = NewDisposeScope();
        var y = nn.functional.layer_norm(input.to_type(ScalarType.Float32), _shape,
            weight.to_type(ScalarType.Float32), bias.to_type(ScalarType.Float32), _eps);
        return y.to_type(input.dtype).MoveToOuterDisposeScope();
    }
}
