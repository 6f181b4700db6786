using Rvpt.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// <see cref="ResidualAttentionBlock.ForwardSkipping"/> (and <see cref="ClipAttention.ForwardQueries"/>) against the
/// full block without the skipped rows: forward and input gradient, float32 and bfloat16, skipped range at the start,
/// in the middle (deep prompts after the class token) and at the end; bad ranges and causal blocks refused.
/// </summary>
public sealed class SkippingBlockTests(ITestOutputHelper output)
{
    private const int Width = 64, Heads = 4, Tokens = 21, Batch = 5;

    private static ResidualAttentionBlock Block(ScalarType dtype, bool causal = false) => SeededBlock.Create(Width, Heads, causal, dtype, seed: 19);

    /// <summary>The kept rows of the full block (reference) or the skipping block, and the input gradient of sum(upstream * output).</summary>
    private static (Tensor Output, Tensor Gradient) Run(ResidualAttentionBlock block, Tensor input, Tensor upstream, long start, long count, bool skipping)
    {
        using var scope = NewDisposeScope();
        var x = input.detach().clone().requires_grad_(true);
        Tensor y;
        if (skipping) y = block.ForwardSkipping(x, start, count);
        else
        {
            var full = block.forward(x);
            y = cat(new[] { full.narrow(1, 0, start), full.narrow(1, start + count, Tokens - start - count) }, 1);
        }
        Assert.Equal(new long[] { Batch, Tokens - count, Width }, y.shape);
        (y.to_type(ScalarType.Float32) * upstream).sum().backward();
        return (y.detach().to_type(ScalarType.Float32).MoveToOuterDisposeScope(), x.grad!.to_type(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    [Theory]
    [InlineData(1, 6)]  // deep prompts after the class token
    [InlineData(0, 3)]
    [InlineData(15, 6)]
    [InlineData(4, 0)]
    public void Float32SkippingEqualsTheFullBlockWithoutTheSkippedRows(long start, long count)
    {
        using var scope = NewDisposeScope();
        using var block = Block(ScalarType.Float32);
        using var g = new Generator(20, CPU);
        var input = randn(new long[] { Batch, Tokens, Width }, generator: g);
        var upstream = randn(new long[] { Batch, Tokens - count, Width }, generator: g);

        var (full, fullGrad) = Run(block, input, upstream, start, count, skipping: false);
        var (kept, keptGrad) = Run(block, input, upstream, start, count, skipping: true);

        TensorAssert.Close(full, kept, 1e-5, "kept rows");
        TensorAssert.Close(fullGrad, keptGrad, 1e-5, "input gradient");
        // The skipped rows still act as keys and values: their input gets gradient.
        var reached = keptGrad.abs().sum(new long[] { 0, 2 }).gt(0);
        Assert.Equal(Tokens, reached.sum().item<long>());
    }

    [Fact]
    public void BFloat16SkippingStaysWithinBFloat16PrecisionOfFloat32()
    {
        using var scope = NewDisposeScope();
        using var block32 = Block(ScalarType.Float32);
        using var block16 = Block(ScalarType.BFloat16);
        using var g = new Generator(21, CPU);
        var input = randn(new long[] { Batch, Tokens, Width }, generator: g).to_type(ScalarType.BFloat16);
        var upstream = randn(new long[] { Batch, Tokens - 6, Width }, generator: g);

        var (reference, referenceGrad) = Run(block32, input.to_type(ScalarType.Float32), upstream, 1, 6, skipping: false);
        var (full, _) = Run(block16, input, upstream, 1, 6, skipping: false);
        var (kept, keptGrad) = Run(block16, input, upstream, 1, 6, skipping: true);

        double error = TensorAssert.RelativeError(kept, reference), gradError = TensorAssert.RelativeError(keptGrad, referenceGrad);
        output.WriteLine($"relative error against float32: output {error:E2}, input gradient {gradError:E2}");
        Assert.True(error < 1e-2, $"output relative error {error:E2}");
        Assert.True(gradError < 2e-2, $"gradient relative error {gradError:E2}");
        Assert.True(TensorAssert.RelativeError(kept, full) < 1e-2, "skipping and full bfloat16 blocks disagree beyond bfloat16 precision");
    }

    [Fact]
    public void BadRangesAndCausalBlocksAreRefused()
    {
        using var scope = NewDisposeScope();
        using var block = Block(ScalarType.Float32);
        var input = zeros(Batch, Tokens, Width);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => block.ForwardSkipping(input, 18, 6));
        Assert.Contains("18..23", e.Message);
        Assert.Contains("21 positions", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => block.ForwardSkipping(input, -1, 2));
        using var causal = Block(ScalarType.Float32, causal: true);
        Assert.Throws<InvalidOperationException>(() => causal.ForwardSkipping(input, 1, 2));
    }
}
