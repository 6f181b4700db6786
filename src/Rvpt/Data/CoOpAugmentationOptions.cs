namespace Rvpt;

/// <summary>
/// Settings of <see cref="CoOpAugmentation"/>. The defaults are CoOp's training transform:
/// <c>RandomResizedCrop(S, scale=(0.08, 1), ratio=(3/4, 4/3), BICUBIC)</c> and <c>RandomHorizontalFlip(0.5)</c>.
/// </summary>
public sealed record CoOpAugmentationOptions
{
    /// <summary>Smallest crop area as a fraction of the image area. Default 0.08.</summary>
    public double MinScale { get; init; } = 0.08;

    /// <summary>Largest crop area as a fraction of the image area. Default 1.</summary>
    public double MaxScale { get; init; } = 1.0;

    /// <summary>Smallest crop aspect ratio (width / height). Default 3/4.</summary>
    public double MinRatio { get; init; } = 3.0 / 4.0;

    /// <summary>Largest crop aspect ratio (width / height). Default 4/3.</summary>
    public double MaxRatio { get; init; } = 4.0 / 3.0;

    /// <summary>Crop draws tried before falling back to a centre crop (torchvision uses 10). Default 10.</summary>
    public int MaxAttempts { get; init; } = 10;

    /// <summary>Probability of a horizontal flip. Default 0.5; 0 never flips, 1 always does.</summary>
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (!(MinScale > 0 && MinScale <= MaxScale && MaxScale <= 1))
            throw new ArgumentException($"Need 0 < {nameof(MinScale)} <= {nameof(MaxScale)} <= 1, got {MinScale} and {MaxScale}.");
        if (!(MinRatio > 0 && MinRatio <= MaxRatio && double.IsFinite(MaxRatio)))
            throw new ArgumentException($"Need 0 < {nameof(MinRatio)} <= {nameof(MaxRatio)} (finite), got {MinRatio} and {MaxRatio}.");
        if (MaxAttempts < 0)
            throw new ArgumentException($"{nameof(MaxAttempts)} must be >= 0, got {MaxAttempts}.");
        if (!(FlipProbability >= 0 && FlipProbability <= 1))
            throw new ArgumentException($"{nameof(FlipProbability)} must be in [0, 1], got {FlipProbability}.");
    }
}
