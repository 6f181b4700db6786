using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// LayerNorm that, like OpenAI's <c>clip.model.LayerNorm</c>, computes its statistics in float32 whatever the input
/// dtype, so half and bfloat16 models keep them accurate. Parameter names <c>weight</c>/<c>bias</c> match the
/// checkpoints.
/// </summary>
/// <remarks>
/// Float16 input is cast to float32 and back, as OpenAI's code does. bfloat16 input goes straight to libtorch's
/// <c>layer_norm</c>, whose kernels accumulate bfloat16 in float32 themselves: the output equals the explicit round
/// trip's except for rare one-unit rounding ties (<c>BFloat16KernelTests</c> prints how rare), and skipping the two casts halves
/// its cost (forward + backward 1.1 ms instead of 2.1 ms on ViT-B/32's prompted blocks at batch 32;
/// <c>Rvpt.Benchmarks kernels</c>, docs/performance.md).
/// </remarks>
internal sealed class ClipLayerNorm : nn.Module<Tensor, Tensor>
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
        if (input.dtype is ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16)
            return nn.functional.layer_norm(input, _shape, weight, bias, _eps);
        return ThroughFloat32(input, _shape, weight, bias, _eps);
    }

    /// <summary>OpenAI's definition: LayerNorm of <paramref name="input"/> cast to float32, cast back to its dtype.</summary>
    internal static Tensor ThroughFloat32(Tensor input, long[] shape, Tensor? weight, Tensor? bias, double eps)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.layer_norm(input.to_type(ScalarType.Float32), shape,
            weight?.to_type(ScalarType.Float32), bias?.to_type(ScalarType.Float32), eps);
        return y.to_type(input.dtype).MoveToOuterDisposeScope();
    }
}
