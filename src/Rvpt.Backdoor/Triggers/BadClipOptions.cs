using Rvpt.Clip;

namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <c>BadClipPatch.Optimize</c>: the BadCLIP patch (Liang et al., CVPR 2024), a square patch at the image
/// centre optimised on a frozen clean CLIP so that patched images embed near the target class. Defaults follow
/// BadCLIP's code (<c>src/embeding_optimize_patch.py</c>, run as its README's <c>..._pos_neg_..._500</c>): patch
/// initialised from N(0.5, 0.25) clipped to [0, 1], Adam at its default lr 1e-3, batch 64, triplet term
/// <c>nn.TripletMarginLoss(margin=1)</c> weighted 500, and (with <see cref="TargetCaptions"/>) a text term
/// contrastive against natural captions of the target. Rvpt's earlier settings are
/// <c>new BadClipOptions { Parameterization = BadClipParameterization.Sigmoid, LearningRate = 0.01, BatchSize = 32,
/// TripletDistance = BadClipTripletDistance.Cosine, TripletMargin = 0.2, TripletWeight = 1 }</c>.
/// </summary>
public sealed record BadClipOptions
{
    /// <summary>Patch side in pixels at 224 (scales with the image like BadNets). Default 16.</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>
    /// Number of Adam steps. Default 500. (BadCLIP's README runs 50 epochs over 10K images at batch 64, about 7,800
    /// steps.)
    /// </summary>
    public int Steps { get; init; } = 500;

    /// <summary>Adam learning rate on the free patch tensor. Default 1e-3 (BadCLIP's <c>torch.optim.Adam([patch])</c>).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Images per step (drawn from the non-target images of the source). Default 64 (BadCLIP's README).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>How the patch is parameterised. Default <see cref="BadClipParameterization.ClippedPixels"/> (BadCLIP's code).</summary>
    public BadClipParameterization Parameterization { get; init; } = BadClipParameterization.ClippedPixels;

    /// <summary>Distance of the triplet term. Default <see cref="BadClipTripletDistance.Euclidean"/> (<c>nn.TripletMarginLoss</c>).</summary>
    public BadClipTripletDistance TripletDistance { get; init; } = BadClipTripletDistance.Euclidean;

    /// <summary>Margin of the triplet term, in <see cref="TripletDistance"/>. Default 1 (<c>nn.TripletMarginLoss</c>'s default, which BadCLIP's run keeps).</summary>
    public double TripletMargin { get; init; } = 1.0;

    /// <summary>Weight of the contrastive (image-to-caption) term. Default 1.</summary>
    public double ContrastiveWeight { get; init; } = 1.0;

    /// <summary>Weight of the triplet (image-to-image) term. Default 500 (BadCLIP's <c>criterion_tri(...) * 500</c>).</summary>
    public double TripletWeight { get; init; } = 500.0;

    /// <summary>
    /// Natural captions that mention the target (BadCLIP's <c>cc3m_natural_10K_WObanana.csv</c> pairs non-target
    /// images with CC3M captions containing "banana"). When given, every patched image is paired with one of them (drawn
    /// per step) and the text term is CLIP's symmetric contrastive loss over the batch, <c>(CE(L) + CE(Lᵀ)) / 2</c> with
    /// the model's logit scale, as BadCLIP's code. When null (the default), the text term is the cross-entropy of the
    /// patched image's logits over the class captions (<see cref="CaptionTemplates"/>) toward the target class, for
    /// worlds without natural captions (the synthetic lab).
    /// </summary>
    public IReadOnlyList<string>? TargetCaptions { get; init; }

    /// <summary>
    /// TrojVQA's text term (see <c>TrojVqaTrigger.Optimize</c>): <c>1 - cos</c> between the patched image and the mean
    /// embedding of <see cref="TargetCaptions"/>.
    /// </summary>
    internal bool CaptionSimilarity { get; init; }

    /// <summary>Seed of the initial patch, the batch order and the positive choice. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Caption templates (with <c>{}</c> for the class name); a class's text embedding is the normalised mean over
    /// templates. Default <see cref="PromptTemplates.APhotoOfA"/>.
    /// </summary>
    public IReadOnlyList<string> CaptionTemplates { get; init; } = PromptTemplates.APhotoOfA;

    /// <summary>
    /// Most images used to measure <see cref="BadClipPatch.InitialObjective"/> and
    /// <see cref="BadClipPatch.FinalObjective"/> on a fixed evaluation batch. Default 64.
    /// </summary>
    public int EvaluationImages { get; init; } = 64;

    /// <summary>Most target-class images whose embeddings form the triplet positives. Default 256.</summary>
    public int MaxTargetImages { get; init; } = 256;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (PatchSize < 1 || PatchSize > TriggerInput.ReferenceSize)
            throw new ArgumentException($"PatchSize must be in [1, {TriggerInput.ReferenceSize}]; got {PatchSize}.", nameof(PatchSize));
        if (Steps < 0)
            throw new ArgumentException($"Steps must be >= 0; got {Steps}.", nameof(Steps));
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
            throw new ArgumentException($"LearningRate must be positive and finite; got {LearningRate}.", nameof(LearningRate));
        if (BatchSize < 1)
            throw new ArgumentException($"BatchSize must be >= 1; got {BatchSize}.", nameof(BatchSize));
        if (!(TripletMargin >= 0) || double.IsInfinity(TripletMargin))
            throw new ArgumentException($"TripletMargin must be finite and >= 0; got {TripletMargin}.", nameof(TripletMargin));
        if (!(ContrastiveWeight >= 0) || double.IsInfinity(ContrastiveWeight))
            throw new ArgumentException($"ContrastiveWeight must be finite and >= 0; got {ContrastiveWeight}.", nameof(ContrastiveWeight));
        if (!(TripletWeight >= 0) || double.IsInfinity(TripletWeight))
            throw new ArgumentException($"TripletWeight must be finite and >= 0; got {TripletWeight}.", nameof(TripletWeight));
        if (!Enum.IsDefined(Parameterization))
            throw new ArgumentException($"Unknown parameterisation {Parameterization}.", nameof(Parameterization));
        if (!Enum.IsDefined(TripletDistance))
            throw new ArgumentException($"Unknown triplet distance {TripletDistance}.", nameof(TripletDistance));
        if (TargetCaptions is not null && (TargetCaptions.Count == 0 || TargetCaptions.Any(string.IsNullOrWhiteSpace)))
            throw new ArgumentException("TargetCaptions must be null or a non-empty list of non-blank captions.", nameof(TargetCaptions));
        if (CaptionSimilarity && TargetCaptions is null)
            throw new ArgumentException("The caption-similarity text term needs TargetCaptions.", nameof(TargetCaptions));
        if (ContrastiveWeight == 0 && TripletWeight == 0)
            throw new ArgumentException("At least one of ContrastiveWeight and TripletWeight must be positive.", nameof(ContrastiveWeight));
        if (CaptionTemplates is null || CaptionTemplates.Count == 0 || CaptionTemplates.Any(t => t is null || !t.Contains("{}", StringComparison.Ordinal)))
            throw new ArgumentException("CaptionTemplates must be a non-empty list of templates each containing '{}'.", nameof(CaptionTemplates));
        if (EvaluationImages < 1)
            throw new ArgumentException($"EvaluationImages must be >= 1; got {EvaluationImages}.", nameof(EvaluationImages));
        if (MaxTargetImages < 1)
            throw new ArgumentException($"MaxTargetImages must be >= 1; got {MaxTargetImages}.", nameof(MaxTargetImages));
    }
}
