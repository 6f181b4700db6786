using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Testing;

/// <summary>Tensor comparisons with messages that say how far off a tensor is.</summary>
public static class TensorAssert
{
    /// <summary>Max |expected - actual|, in float64.</summary>
    public static double MaxAbsDiff(Tensor expected, Tensor actual)
    {
        if (expected.numel() == 0 && actual.numel() == 0) return 0;
        using var scope = NewDisposeScope();
        return (expected.to_type(ScalarType.Float64).cpu() - actual.to_type(ScalarType.Float64).cpu()).abs().max().item<double>();
    }

    /// <summary>Relative error <c>||actual - expected|| / ||expected||</c> (Frobenius norms), in float64.</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var e = expected.to_type(ScalarType.Float64).cpu();
        return ((actual.to_type(ScalarType.Float64).cpu() - e).norm() / e.norm()).item<double>();
    }

    /// <summary>Asserts equal shapes and max abs difference at most <paramref name="atol"/>.</summary>
    public static void Close(Tensor expected, Tensor actual, double atol, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        var diff = MaxAbsDiff(expected, actual);
        Assert.True(diff <= atol, $"{what}: max abs diff {diff:G3} exceeds {atol:G3}");
    }

    /// <summary>Asserts the same dtype, shape and bytes.</summary>
    public static void BitIdentical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape differs");
        using var a = expected.cpu().contiguous();
        using var b = actual.cpu().contiguous();
        Assert.True(a.bytes.SequenceEqual(b.bytes), $"{what}: bytes differ");
    }
}
