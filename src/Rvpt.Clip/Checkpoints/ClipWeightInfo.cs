using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>What a file header says about one weight: its shape and element type (no data).</summary>
internal readonly record struct ClipWeightInfo(long[] Shape, ScalarType DType)
{
    /// <summary>The info of a tensor in memory.</summary>
    public static ClipWeightInfo Of(Tensor t) => new(t.shape, t.dtype);
}
