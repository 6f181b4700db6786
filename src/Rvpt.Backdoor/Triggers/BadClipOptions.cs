using Rvpt.Clip;

namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <c>BadClipPatch.Optimize</c>: the BadCLIP patch (Liang et al. 2024 as described by the RVPT
/// paper), a square patch at the image centre optimised on a frozen clean CLIP so that patched images embed near the
/// target class.
/// </summary>
public sealed record BadClipOptions
{
    /// <summary>Patch side in pixels at 224 (scales with the image like BadNets). Default 16.</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>Number of Adam steps. Default 500.</summary>
    public int Steps { get; init; } = 500;

    /// <summary>Adam learning rate on the free patch tensor (the patch is its sigmoid). Default 0.01.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Images per step (drawn from the non-target images of the source). Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Margin of the triplet term, in cosine distance (1 - cos). Default 0.2.</summary>
    public double TripletMargin { get; init; } = 0.2;

    /// <summary>Weight of the contrastive (image-to-caption) term. Default 1.</summary>
    public double ContrastiveWeight { get; init; } = 1.0;

    /// <summary>Weight of the triplet (image-to-image) term. Default 1.</summary>
    public double TripletWeight { get; init; } = 1.0;

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
