using Rvpt.Clip;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// The bfloat16 shortcuts of the building blocks against their float32 definitions: <see cref="ClipLayerNorm"/>
/// leaves the float32 accumulation to libtorch's kernel instead of casting, and <see cref="ClipAttention"/> uses the
/// explicit softmax product instead of the fused kernel on the CPU.
/// </summary>
public sealed class BFloat16KernelTests(ITestOutputHelper output)
{
    private const int Width = 64;

    [Fact]
    public void LayerNormInBFloat16MatchesOpenAIsFloat32RoundTrip()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3, CPU);
        using var norm = new ClipLayerNorm(Width, 1e-5);
        using (no_grad())
        {
            norm.parameters().First().copy_(1 + 0.2 * randn(new long[] { Width }, generator: g));
            norm.parameters().Last().copy_(0.1 * randn(new long[] { Width }, generator: g));
        }
        norm.to(ScalarType.BFloat16);
        var weight = norm.parameters().First().to_type(ScalarType.Float32);
        var bias = norm.parameters().Last().to_type(ScalarType.Float32);
        var x = (3 * randn(new long[] { 64, 50, Width }, generator: g) + 0.5).to_type(ScalarType.BFloat16);

        // OpenAI's clip.model.LayerNorm: float32 in, float32 statistics and affine, cast back.
        var roundTrip = nn.functional.layer_norm(x.to_type(ScalarType.Float32), new long[] { Width }, weight, bias, 1e-5);
        var y = norm.forward(x);

        Assert.Equal(ScalarType.BFloat16, y.dtype);
        var same = y.eq(roundTrip.to_type(ScalarType.BFloat16)).to_type(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"{1 - same:P4} of {y.numel()} outputs differ from the float32 round trip's");
        Assert.True(same >= 0.999f, $"only {same:P3} of the outputs equal the float32 round trip's");
        // Where they differ it is by a rounding tie: within one bfloat16 unit (2^-7 relative) of the float32 value.
        var error = (y.to_type(ScalarType.Float32) - roundTrip).abs();
        var unit = roundTrip.abs().clamp_min(1e-6) * Math.Pow(2, -7);
        Assert.True(error.le(unit).all().item<bool>(), $"max error {error.max().item<float>()} exceeds one bfloat16 unit");
    }

    [Fact]
    public void LayerNormGradientInBFloat16StaysWithinBFloat16Precision()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4, CPU);
        using var norm = new ClipLayerNorm(Width, 1e-5);
        norm.to(ScalarType.BFloat16);
        var x32 = 2 * randn(new long[] { 32, 50, Width }, generator: g);
        var upstream = randn(new long[] { 32, 50, Width }, generator: g);

        var x16 = x32.to_type(ScalarType.BFloat16).requires_grad_(true);
        norm.forward(x16).backward(new[] { upstream.to_type(ScalarType.BFloat16) });
        var reference = x32.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32).requires_grad_(true);
        nn.functional.layer_norm(reference, new long[] { Width }, null, null, 1e-5).backward(new[] { upstream.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32) });

        var relative = RelativeError(x16.grad!, reference.grad!);
        // For comparison, OpenAI's round trip: cast to float32, normalise, cast back (the backward casts the other way).
        var leaf = x32.to_type(ScalarType.BFloat16).requires_grad_(true);
        nn.functional.layer_norm(leaf.to_type(ScalarType.Float32), new long[] { Width }, null, null, 1e-5).to_type(ScalarType.BFloat16)
            .backward(new[] { upstream.to_type(ScalarType.BFloat16) });
        output.WriteLine($"input-gradient relative error against float32: {relative:E2} (float32 round trip: {RelativeError(leaf.grad!, reference.grad!):E2})");
        Assert.True(relative < 5e-3, $"relative gradient error {relative:E2} (bfloat16 resolution is 3.9e-3)");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AttentionInBFloat16MatchesFloat32ForwardAndBackward(bool causal)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5, CPU);
        using var full = new ClipAttention(Width, heads: 4, causal);
        using var half = new ClipAttention(Width, heads: 4, causal);
        half.load_state_dict(full.state_dict());
        half.to(ScalarType.BFloat16);
        var x = randn(new long[] { 8, 20, Width }, generator: g);
        var upstream = randn(new long[] { 8, 20, Width }, generator: g);

        var x32 = x.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32).requires_grad_(true);
        var y32 = full.forward(x32); // float32: the fused kernel
        y32.backward(new[] { upstream });
        var x16 = x.to_type(ScalarType.BFloat16).requires_grad_(true);
        var y16 = half.forward(x16); // bfloat16 on the CPU: the explicit product
        y16.backward(new[] { upstream.to_type(ScalarType.BFloat16) });

        Assert.Equal(ScalarType.BFloat16, y16.dtype);
        Assert.True(RelativeError(y16, y32) < 2e-2, $"output relative error {RelativeError(y16, y32):E2}");
        Assert.True(RelativeError(x16.grad!, x32.grad!) < 2e-2, $"input-gradient relative error {RelativeError(x16.grad!, x32.grad!):E2}");
    }

    [Fact]
    public void CausalAttentionInBFloat16DoesNotSeeLaterTokens()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(6, CPU);
        using var attention = new ClipAttention(Width, heads: 4, causal: true);
        attention.to(ScalarType.BFloat16);
        var x = randn(new long[] { 2, 10, Width }, generator: g).to_type(ScalarType.BFloat16);
        var changed = x.clone();
        changed.narrow(1, 6, 4).add_(5);
        using var noGrad = no_grad();
        var before = attention.forward(x).narrow(1, 0, 6);
        var after = attention.forward(changed).narrow(1, 0, 6);
        Assert.True(before.equal(after).all().item<bool>(), "tokens 0-5 changed when only tokens 6-9 did");
        Assert.False(attention.forward(x).narrow(1, 6, 4).equal(attention.forward(changed).narrow(1, 6, 4)).all().item<bool>());
    }

    private static float RelativeError(Tensor actual, Tensor expected) =>
        (actual.to_type(ScalarType.Float32) - expected).norm().item<float>() / expected.norm().item<float>();
}
