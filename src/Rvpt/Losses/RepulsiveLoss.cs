using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// RVPT's objective: <c>L = L_CE + alpha * L_FR</c>. L_CE is the cross-entropy of
/// <c>exp(logit_scale) * cos(V_P(x), T(t_j))</c> against the labels, with frozen, precomputed class text features.
/// L_FR is the mean over the batch and over blocks D+1..L of <c>cos(c_i^d, sigma_i^d)</c>, the cosine between the
/// prompted and the frozen encoder's class tokens (frozen side without gradient); minimising it repels the features.
/// With a margin m the per-image term is <c>max(L_FR,i, m)</c> (m = 1 gives plain VPT); alpha = 0 also gives plain VPT.
/// Two further ablations, not part of the paper's method, are offered as options: repelling the last block only
/// (<see cref="OnBlocks"/>) and repelling per-block normalised class tokens (<see cref="OnFeature"/>).
/// </summary>
public sealed class RepulsiveLoss
{
    /// <summary>
    /// Creates the paper's loss with weight <paramref name="alpha"/>; alpha = 0 is plain VPT (cross-entropy only).
    /// The variants are fluent copies: <see cref="WithMargin"/>, <see cref="OnBlocks"/>, <see cref="OnFeature"/>.
    /// </summary>
    /// <param name="alpha">Weight of the repelling term, finite and &gt;= 0. Paper default 2.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is negative, infinite or NaN.</exception>
    public RepulsiveLoss(double alpha = 2.0)
        : this(alpha, null, RepelledBlocks.All, RepelledFeature.RawClassToken)
    {
    }

    private RepulsiveLoss(double alpha, double? margin, RepelledBlocks blocks, RepelledFeature feature)
    {
        if (!(alpha >= 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be a finite value >= 0.");
        if (margin is { } m && !(m >= -1 && m <= 1)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "The margin is a cosine: it must lie in [-1, 1].");
        if (!Enum.IsDefined(blocks)) throw new ArgumentOutOfRangeException(nameof(blocks), blocks, "Unknown RepelledBlocks value.");
        if (!Enum.IsDefined(feature)) throw new ArgumentOutOfRangeException(nameof(feature), feature, "Unknown RepelledFeature value.");
        Alpha = alpha;
        Margin = margin;
        Blocks = blocks;
        Feature = feature;
    }

    /// <summary>Weight of the repelling term.</summary>
    public double Alpha { get; }

    /// <summary>Margin of the L_FRM variant, or null.</summary>
    public double? Margin { get; }

    /// <summary>Which prompted blocks the repelling term reads. Default <see cref="RepelledBlocks.All"/> (the paper's).</summary>
    public RepelledBlocks Blocks { get; }

    /// <summary>What the repelling term compares. Default <see cref="RepelledFeature.RawClassToken"/>.</summary>
    public RepelledFeature Feature { get; }

    /// <summary>True when this is the paper's loss shape: all prompted blocks, raw class tokens (any alpha and margin).</summary>
    public bool IsPaperForm => Blocks == RepelledBlocks.All && Feature == RepelledFeature.RawClassToken;

    /// <summary>A copy with the margin m of the L_FRM variant: per image <c>max(L_FR,i, m)</c>; m = 1 is plain VPT.</summary>
    /// <param name="margin">A cosine in [-1, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is outside [-1, 1].</exception>
    public RepulsiveLoss WithMargin(double margin) => new(Alpha, margin, Blocks, Feature);

    /// <summary>A copy that repels the given blocks' class tokens (ablation when not <see cref="RepelledBlocks.All"/>).</summary>
    public RepulsiveLoss OnBlocks(RepelledBlocks blocks) => new(Alpha, Margin, blocks, Feature);

    /// <summary>A copy that compares the given feature (ablation when not <see cref="RepelledFeature.RawClassToken"/>).</summary>
    public RepulsiveLoss OnFeature(RepelledFeature feature) => new(Alpha, Margin, Blocks, feature);

    /// <summary>
    /// Evaluates the loss. <paramref name="classTextFeatures"/> must be L2-normalised <c>[classes, embedDim]</c>;
    /// <paramref name="frozenClassTokens"/> is <see cref="DeepPromptInjector.RunFrozen"/>'s output (detached here).
    /// Computed in float32 whatever the model's dtype.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree.</exception>
    public RepulsiveLossResult Compute(PromptedOutput prompted, Tensor frozenClassTokens, Tensor classTextFeatures, Tensor labels, Tensor logitScale)
    {
        ArgumentNullException.ThrowIfNull(prompted);
        var c = prompted.ClassTokens;
        if (!c.shape.SequenceEqual(frozenClassTokens.shape))
            throw new ArgumentException($"Prompted class tokens [{string.Join(", ", c.shape)}] and frozen class tokens [{string.Join(", ", frozenClassTokens.shape)}] differ in shape.");
        if (labels.dim() != 1 || labels.shape[0] != prompted.ImageFeatures.shape[0])
            throw new ArgumentException($"Expected labels [{prompted.ImageFeatures.shape[0]}], got [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (classTextFeatures.dim() != 2 || classTextFeatures.shape[1] != prompted.ImageFeatures.shape[1])
            throw new ArgumentException($"Expected class text features [classes, {prompted.ImageFeatures.shape[1]}], got [{string.Join(", ", classTextFeatures.shape)}].", nameof(classTextFeatures));

        using var scope = NewDisposeScope();
        var image = ClipModel.Normalize(prompted.ImageFeatures.to_type(ScalarType.Float32));
        var scale = logitScale.detach().to_type(ScalarType.Float32).exp();
        var logits = scale * image.matmul(classTextFeatures.to_type(ScalarType.Float32).t());
        var ce = nn.functional.cross_entropy(logits, labels.to(logits.device));
        var fr = Repelling(c, frozenClassTokens, Margin, Blocks, Feature);
        var total = Alpha == 0 ? ce : ce + Alpha * fr;
        return new RepulsiveLossResult(total.MoveToOuterDisposeScope(), ce.MoveToOuterDisposeScope(), fr.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// L_FR alone: mean over images of (the margin-clamped) mean over blocks of <c>cos(prompted, frozen)</c>, for
    /// class tokens <c>[N, blocks, width]</c>. Zero when there are no prompted blocks. The defaults are the paper's;
    /// <paramref name="blocks"/> and <paramref name="feature"/> select the ablations.
    /// </summary>
    /// <param name="promptedClassTokens">The prompted encoder's class tokens <c>[N, blocks, width]</c>.</param>
    /// <param name="frozenClassTokens">The frozen encoder's class tokens, same shape (detached here).</param>
    /// <param name="margin">Optional margin m: each image's term is <c>max(L_FR,i, m)</c>.</param>
    /// <param name="blocks">The blocks averaged over. Default <see cref="RepelledBlocks.All"/>.</param>
    /// <param name="feature">Whether each class token is first normalised across its width (zero mean, unit
    /// variance). Default <see cref="RepelledFeature.RawClassToken"/>.</param>
    /// <returns>A float32 scalar, owned by the caller.</returns>
    public static Tensor Repelling(Tensor promptedClassTokens, Tensor frozenClassTokens, double? margin = null,
        RepelledBlocks blocks = RepelledBlocks.All, RepelledFeature feature = RepelledFeature.RawClassToken)
    {
        using var scope = NewDisposeScope();
        if (promptedClassTokens.shape[1] == 0)
            return zeros(Array.Empty<long>(), ScalarType.Float32, promptedClassTokens.device).MoveToOuterDisposeScope();
        var prompted = promptedClassTokens.to_type(ScalarType.Float32);
        var frozen = frozenClassTokens.detach().to_type(ScalarType.Float32);
        if (blocks == RepelledBlocks.Last)
        {
            var last = prompted.shape[1] - 1;
            prompted = prompted.narrow(1, last, 1);
            frozen = frozen.narrow(1, last, 1);
        }
        if (feature == RepelledFeature.NormalizedClassToken)
        {
            var width = new[] { prompted.shape[2] };
            prompted = nn.functional.layer_norm(prompted, width);
            frozen = nn.functional.layer_norm(frozen, width);
        }
        var cos = nn.functional.cosine_similarity(prompted, frozen, 2, 1e-8); // [N, blocks]
        var perImage = cos.mean(new long[] { 1 });
        if (margin is { } m) perImage = perImage.clamp_min(m);
        return perImage.mean().MoveToOuterDisposeScope();
    }
}
