using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Multi-head self-attention with PyTorch <c>nn.MultiheadAttention</c>'s parameter layout (packed
/// <c>in_proj_weight</c> rows q, k, v; <c>out_proj</c>), evaluated batch-first.
/// </summary>
/// <remarks>
/// The heads are combined with libtorch's fused <c>scaled_dot_product_attention</c>, except for bfloat16 on the CPU,
/// where the explicit product <c>softmax(q k^T / sqrt(d)) v</c> (what PyTorch's <c>nn.MultiheadAttention</c> computed
/// before fused attention) is faster: libtorch 2.10's CPU flash-attention kernel took about 4x as long for forward +
/// backward in bfloat16 (ViT-B/32's prompted blocks at batch 32: 77 ms against 20 ms for the heads) and was never
/// faster for the forward; the two agree to bfloat16 rounding (<c>Rvpt.Benchmarks kernels</c>, docs/performance.md).
/// The explicit form keeps the <c>[N, heads, T, T]</c> weights for the backward, as PyTorch 1.x did.
/// </remarks>
internal sealed class ClipAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // checkpoint key names
    private readonly Parameter in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly Linear out_proj;
#pragma warning restore IDE1006
    private readonly int _heads;
    private readonly bool _causal;

    /// <summary>Creates attention over <paramref name="width"/> channels split into <paramref name="heads"/> heads.</summary>
    /// <param name="width">Model width.</param>
    /// <param name="heads">Head count; head width is <c>width / heads</c>.</param>
    /// <param name="causal">Whether each position attends only to itself and earlier positions (text tower).</param>
    public ClipAttention(int width, int heads, bool causal) : base(nameof(ClipAttention))
    {
        if (width % heads != 0) throw new ArgumentException($"Width {width} is not divisible by heads {heads}.");
        in_proj_weight = new Parameter(empty(3L * width, width));
        in_proj_bias = new Parameter(zeros(3L * width));
        out_proj = nn.Linear(width, width);
        _heads = heads;
        _causal = causal;
        RegisterComponents();
        using (no_grad()) nn.init.xavier_uniform_(in_proj_weight);
    }

    /// <summary>Attends over <c>[N, T, width]</c> and returns the same shape.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long n = input.shape[0], t = input.shape[1], width = input.shape[2];
        long headDim = width / _heads;
        var qkv = nn.functional.linear(input, in_proj_weight, in_proj_bias)
            .view(n, t, 3, _heads, headDim)
            .permute(2, 0, 3, 1, 4); // [3, N, H, T, hd]
        var attended = UseExplicitProduct(input)
            ? ExplicitAttention(qkv[0], qkv[1], qkv[2], _causal)
            : nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: _causal);
        var merged = attended.transpose(1, 2).reshape(n, t, width);
        return out_proj.forward(merged).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The attention output at position 0 alone, <c>[N, 1, width]</c>: keys and values from every position of
    /// <c>[N, T, width]</c> (from position 0 only when causal, the only one it may see), the query, the heads' product
    /// and <c>out_proj</c> for position 0 only. Equals <c>forward(input).narrow(1, 0, 1)</c> up to floating-point
    /// rounding (the products run over other shapes, so the kernels may sum in another order); it saves the query and
    /// output projections and the attention of the other <c>T - 1</c> positions, for callers that read only position
    /// 0 (a ViT's class token after its last block).
    /// </summary>
    public Tensor ForwardFirstToken(Tensor input) =>
        ForwardQueries(input.narrow(1, 0, 1), _causal ? input.narrow(1, 0, 1) : input);

    /// <summary>
    /// The attention output of the <c>[N, Tq, width]</c> <paramref name="queries"/> over the keys and values of the
    /// <c>[N, T, width]</c> <paramref name="keys"/> (both already normalised by the block's <c>ln_1</c>), without a
    /// mask: <c>[N, Tq, width]</c>. For rows of a non-causal input it equals those rows of <c>forward(keys)</c> up to
    /// floating-point rounding; the query and output projections and the heads' product run for the queries only.
    /// </summary>
    public Tensor ForwardQueries(Tensor queries, Tensor keys)
    {
        using var scope = NewDisposeScope();
        long n = queries.shape[0], tq = queries.shape[1], width = queries.shape[2], t = keys.shape[1];
        long headDim = width / _heads;
        var q = nn.functional.linear(queries, in_proj_weight.narrow(0, 0, width), in_proj_bias.narrow(0, 0, width))
            .view(n, tq, _heads, headDim).transpose(1, 2);                 // [N, H, Tq, hd]
        var kv = nn.functional.linear(keys, in_proj_weight.narrow(0, width, 2 * width), in_proj_bias.narrow(0, width, 2 * width))
            .view(n, t, 2, _heads, headDim).permute(2, 0, 3, 1, 4);        // [2, N, H, T, hd]
        var attended = UseExplicitProduct(queries)
            ? ExplicitAttention(q, kv[0], kv[1], causal: false)
            : nn.functional.scaled_dot_product_attention(q, kv[0], kv[1]);
        var merged = attended.transpose(1, 2).reshape(n, tq, width);
        return out_proj.forward(merged).MoveToOuterDisposeScope();
    }

    /// <summary>Whether each position attends only to itself and earlier ones.</summary>
    public bool IsCausal => _causal;

    private static bool UseExplicitProduct(Tensor input) =>
        input.dtype == ScalarType.BFloat16 && input.device_type == DeviceType.CPU;

    /// <summary><c>softmax(q k^T / sqrt(d) [+ causal mask]) v</c> over <c>[N, H, T, d]</c>.</summary>
    internal static Tensor ExplicitAttention(Tensor q, Tensor k, Tensor v, bool causal)
    {
        var scores = (q * (1.0 / Math.Sqrt(q.shape[^1]))).matmul(k.transpose(-2, -1));
        if (causal)
        {
            long t = q.shape[^2];
            using var future = ones(t, t, ScalarType.Bool, q.device).triu(1);
            scores = scores.masked_fill(future, double.NegativeInfinity);
        }
        return scores.softmax(-1).matmul(v);
    }
}
