using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Perturbation resistivity (PR) of each vision block d: the mean over images of <c>cos(f^d(x), f^d(x + δ))</c>,
/// with f^d the class token of the residual stream after block d. Higher means more resistant to δ. Works for the
/// plain encoder and for a prompted one (blocks 1..D are the original's; D+1..L the prompted branch's).
/// </summary>
public static class PerturbationResistivity
{
    /// <summary>Per-block class tokens <c>[N, L, width]</c> for normalised pixels.</summary>
    public delegate Tensor ClassTokenEncoder(Tensor normalizedPixels);

    /// <summary>The plain CLIP image tower's per-block class tokens.</summary>
    public static ClassTokenEncoder Plain(ClipModel clip) => pixels =>
    {
        using var output = clip.EncodeImageWithHiddenStates(pixels, VisionHiddenStates.ClassTokens);
        return stack(output.ClassTokens.ToArray(), 1);
    };

    /// <summary>A prompted image tower's per-block class tokens (original for blocks 1..D, prompted after).</summary>
    public static ClassTokenEncoder Prompted(DeepPromptInjector prompts) => pixels =>
    {
        using var scope = NewDisposeScope();
        using var output = prompts.Clip.EncodeImageWithHiddenStates(pixels, VisionHiddenStates.ClassTokens);
        var prompted = prompts.RunPrompted(prompts.RunSharedTrunk(pixels)).ClassTokens;
        var trunk = output.ClassTokens.Take(prompts.UnpromptedDepth).Select(t => t.unsqueeze(1));
        return cat(trunk.Append(prompted).ToArray(), 1).MoveToOuterDisposeScope();
    };

    /// <summary>
    /// Measures PR for every perturbation on <paramref name="data"/> (images resized and centre-cropped to the model's
    /// size; δ applied in [0, 1] pixel space). Returns, per perturbation name, one value per block (index 0 = block 1).
    /// </summary>
    public static IReadOnlyDictionary<string, double[]> Measure(ClassTokenEncoder encoder, ClipImageProcessor processor,
        ILabeledImageSource data, IReadOnlyList<IImagePerturbation> perturbations, long seed = 0, int batchSize = 64,
        Device? device = null, ScalarType dtype = ScalarType.Float32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(perturbations);
        device ??= CPU;
        var transform = new ClipEvalTransform(processor);
        var sums = perturbations.ToDictionary(p => p.Name, _ => (double[]?)null);
        using var noGrad = no_grad();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var pixels01Batch = Pixels01Batch.Load(data.LoadPixels01, Pixels01Batch.Range(start, Math.Min(batchSize, data.Count - start)), transform, cancellationToken);
            Tensor Encode(Tensor pixels01) => encoder(processor.Normalize(pixels01).to(dtype, device)).to_type(ScalarType.Float32);
            var clean = Encode(pixels01Batch);
            foreach (var p in perturbations)
            {
                var perturbed = Encode(p.Apply(pixels01Batch, SeedMixer.Offset64(seed, start)));
                var cos = nn.functional.cosine_similarity(clean, perturbed, 2, 1e-8).sum(new long[] { 0 }).cpu().data<float>().ToArray(); // [L]
                var acc = sums[p.Name] ??= new double[cos.Length];
                for (int d = 0; d < cos.Length; d++) acc[d] += cos[d];
            }
        }
        return sums.ToDictionary(p => p.Key, p => (p.Value ?? Array.Empty<double>()).Select(v => v / data.Count).ToArray());
    }
}
