using Rvpt.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// <see cref="ResidualAttentionBlock.ForwardFirstToken"/> (and <see cref="ClipAttention.ForwardFirstToken"/>) against
/// position 0 of the full block, forward and input gradient, in float32 and bfloat16, causal and not.
/// </summary>
public sealed class FirstTokenBlockTests(ITestOutputHelper output)
{
    private const int Width = 64, Heads = 4, Tokens = 21, Batch = 5;

    /// <summary>A block with seeded weights (the same for every dtype), frozen.</summary>
    private static ResidualAttentionBlock Block(bool causal, ScalarType dtype) => SeededBlock.Create(Width, Heads, causal, dtype, seed: 9);

    /// <summary>Output at position 0 and the input gradient of <c>sum(upstream * output0)</c>, in float32.</summary>
    private static (Tensor Output, Tensor Gradient) Run(ResidualAttentionBlock block, Tensor input, Tensor upstream, bool firstTokenOnly)
    {
        using var scope = NewDisposeScope();
        var x = input.detach().clone().requires_grad_(true);
        var y = firstTokenOnly ? block.ForwardFirstToken(x) : block.forward(x).narrow(1, 0, 1);
        Assert.Equal(new long[] { Batch, 1, Width }, y.shape);
        (y.to_type(ScalarType.Float32) * upstream).sum().backward();
        return (y.detach().to_type(ScalarType.Float32).MoveToOuterDisposeScope(), x.grad!.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Float32FirstTokenEqualsTheFullBlockAtPositionZero(bool causal)
    {
        using var scope = NewDisposeScope();
        using var block = Block(causal, ScalarType.Float32);
        using var g = new Generator(10, CPU);
        var input = randn(new long[] { Batch, Tokens, Width }, generator: g);
        var upstream = randn(new long[] { Batch, 1, Width }, generator: g);

        var (full, fullGrad) = Run(block, input, upstream, firstTokenOnly: false);
        var (first, firstGrad) = Run(block, input, upstream, firstTokenOnly: true);

        TensorAssert.Close(full, first, 1e-5, "output at position 0");
        TensorAssert.Close(fullGrad, firstGrad, 1e-5, "input gradient");
        // The gradient reaches every position through the keys and values (only position 0 when causal).
        var reached = fullGrad.abs().sum(new long[] { 0, 2 }).gt(0);
        Assert.Equal(causal ? 1 : Tokens, reached.sum().item<long>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BFloat16FirstTokenStaysWithinBFloat16PrecisionOfFloat32(bool causal)
    {
        using var scope = NewDisposeScope();
        using var block32 = Block(causal, ScalarType.Float32);
        using var block16 = Block(causal, ScalarType.BFloat16);
        using var g = new Generator(11, CPU);
        var input = randn(new long[] { Batch, Tokens, Width }, generator: g).to_type(ScalarType.BFloat16);
        var upstream = randn(new long[] { Batch, 1, Width }, generator: g);

        var (reference, referenceGrad) = Run(block32, input.to_type(ScalarType.Float32), upstream, firstTokenOnly: false);
        var (full, fullGrad) = Run(block16, input, upstream, firstTokenOnly: false);
        var (first, firstGrad) = Run(block16, input, upstream, firstTokenOnly: true);

        double fullError = TensorAssert.RelativeError(full, reference), firstError = TensorAssert.RelativeError(first, reference);
        double fullGradError = TensorAssert.RelativeError(fullGrad, referenceGrad), firstGradError = TensorAssert.RelativeError(firstGrad, referenceGrad);
        output.WriteLine($"relative error against float32: output full {fullError:E2}, first token {firstError:E2}; " +
                         $"input gradient full {fullGradError:E2}, first token {firstGradError:E2}");
        // bfloat16 resolution is 3.9e-3 per value; a block of sums and products stays within a few units.
        Assert.True(firstError < 1e-2, $"output relative error {firstError:E2}");
        Assert.True(firstGradError < 2e-2, $"gradient relative error {firstGradError:E2}");
        Assert.True(TensorAssert.RelativeError(first, full) < 1e-2, "first-token and full bfloat16 blocks disagree beyond bfloat16 precision");
    }
}
