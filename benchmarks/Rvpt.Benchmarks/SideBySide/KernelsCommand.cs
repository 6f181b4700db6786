using System.Diagnostics;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// <c>kernels</c> console mode: the evidence behind the two bfloat16 choices of <see cref="ClipAttention"/> and
/// <see cref="ClipLayerNorm"/>. On <c>[batch, tokens, 768]</c> activations (ViT-B/32's prompted blocks by default:
/// batch 32, 50 + 50 tokens, 12 heads) it times, forward without gradient and forward + input-gradient backward:
/// attention heads combined by libtorch's fused <c>scaled_dot_product_attention</c>, by the explicit
/// <c>softmax(q k^T / sqrt(d)) v</c>, and by the library's <see cref="ClipAttention"/> (which picks one; its input
/// projection included); LayerNorm in the input dtype, through float32 and back (OpenAI's definition), and the
/// library's <see cref="ClipLayerNorm"/>; a whole <see cref="ResidualAttentionBlock"/> against its class-token-only
/// form (<see cref="ResidualAttentionBlock.ForwardFirstToken"/>, the last block with
/// <see cref="DeepPromptInjector.ClassTokenOnlyLastBlock"/>); and the MLP with QuickGELU as three operators against an
/// in-place QuickGELU (a candidate for the no-grad trunk and frozen branch, forward only). Prints one JSON line of
/// medians in milliseconds.
/// <code>Rvpt.Benchmarks kernels --dtype bfloat16|float32 --batch 32 --tokens 100 --threads 2 --reps 7</code>
/// </summary>
public static class KernelsCommand
{
    private const int Width = 768, Heads = 12;

    /// <summary>Runs the mode.</summary>
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        int batch = cl.Int("batch", 32), tokens = cl.Int("tokens", 100), reps = cl.Int("reps", 7);
        int threads = cl.Int("threads", Environment.ProcessorCount);
        var dtype = cl.DType("bfloat16");
        var device = cl.Device();
        torch.set_num_threads(threads);

        using var g = new Generator(11, CPU);
        using var x = randn(new long[] { batch, tokens, Width }, generator: g).to(dtype, device);
        using var qkvInput = randn(new long[] { batch, tokens, 3 * Width }, generator: g).to(dtype, device);
        using var attention = new ClipAttention(Width, Heads, causal: false);
        attention.to(device, dtype);
        using var projection = nn.Linear(Width, 3 * Width); // the input projection ClipAttention includes
        projection.to(device, dtype);
        using var norm = new ClipLayerNorm(Width, 1e-5);
        norm.to(device, dtype);
        using var block = new ResidualAttentionBlock(Width, Heads, 4 * Width, ClipActivation.QuickGelu, 1e-5, causal: false);
        block.to(device, dtype);
        using var fc = nn.Linear(Width, 4 * Width);
        using var proj = nn.Linear(4 * Width, Width);
        fc.to(device, dtype);
        proj.to(device, dtype);
        foreach (var p in attention.parameters().Concat(projection.parameters()).Concat(norm.parameters()).Concat(block.parameters())
                     .Concat(fc.parameters()).Concat(proj.parameters()))
            p.requires_grad = false;

        Tensor Heads4(Tensor qkv) => qkv.view(batch, tokens, 3, Heads, Width / Heads).permute(2, 0, 3, 1, 4);
        Tensor Fused(Tensor qkv) { var h = Heads4(qkv); return nn.functional.scaled_dot_product_attention(h[0], h[1], h[2]); }
        Tensor Explicit(Tensor qkv) { var h = Heads4(qkv); return ClipAttention.ExplicitAttention(h[0], h[1], h[2], causal: false); }
        Tensor RoundTrip(Tensor input) => ClipLayerNorm.ThroughFloat32(input, new long[] { Width }, null, null, 1e-5);
        Tensor Native(Tensor input) => nn.functional.layer_norm(input, new long[] { Width }, null, null, 1e-5);
        Tensor Mlp(Tensor input) { var h = fc.forward(input); return proj.forward(h * nn.functional.sigmoid(h * 1.702)); }
        Tensor MlpInPlace(Tensor input) { var h = fc.forward(input); return proj.forward(h.mul_(nn.functional.sigmoid(h * 1.702))); }

        var results = new List<(string Name, double Forward, double ForwardBackward)>
        {
            Measure("attention: fused scaled_dot_product_attention", qkvInput, Fused),
            Measure("attention: explicit softmax product", qkvInput, Explicit),
            Measure("input projection (linear 768 -> 2304)", x, projection.forward),
            Measure("ClipAttention (projections included)", x, attention.forward),
            Measure("LayerNorm: in the input dtype", x, Native),
            Measure("LayerNorm: through float32 and back", x, RoundTrip),
            Measure("ClipLayerNorm", x, norm.forward),
            Measure("block: ResidualAttentionBlock.forward", x, block.forward),
            Measure("block: ForwardFirstToken (class token only)", x, block.ForwardFirstToken),
            Measure("MLP: c_fc, QuickGELU, c_proj", x, Mlp),
            Measure("MLP: in-place QuickGELU (no grad only)", x, MlpInPlace, forwardOnly: true),
        };
        Console.WriteLine("{" + string.Join(", ",
            $"\"framework\": \"{CommandLine.Framework}\"",
            $"\"dtype\": \"{CommandLine.DTypeName(dtype)}\"",
            $"\"batch\": {batch}", $"\"tokens\": {tokens}", $"\"threads\": {threads}",
            $"\"device\": \"{device.type.ToString().ToLowerInvariant()}\"",
            "\"median_ms\": {" + string.Join(", ", results.Select(r =>
                $"\"{r.Name}\": {{\"forward\": {CommandLine.F(r.Forward)}, \"forward_backward\": {CommandLine.F(r.ForwardBackward)}}}")) + "}") + "}");
        return 0;

        (string, double, double) Measure(string name, Tensor input, Func<Tensor, Tensor> op, bool forwardOnly = false)
        {
            using var leaf = input.detach().clone().requires_grad_(true);
            double forward = Median(() =>
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                op(input);
                BenchParameters.Synchronize(device);
            });
            if (forwardOnly) return (name, forward, double.NaN);
            double forwardBackward = Median(() =>
            {
                using var scope = NewDisposeScope();
                op(leaf).sum().backward();
                leaf.grad!.zero_();
                BenchParameters.Synchronize(device);
            });
            return (name, forward, forwardBackward);
        }

        double Median(Action action)
        {
            action(); // warm-up
            var times = new List<double>();
            for (int i = 0; i < reps; i++)
            {
                var clock = Stopwatch.StartNew();
                action();
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            return CommandLine.Median(times);
        }
    }
}
