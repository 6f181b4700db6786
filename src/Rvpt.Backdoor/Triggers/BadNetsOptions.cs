namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="BadNetsTrigger"/> (Gu et al. 2017). Defaults are the trigger of CleanCLIP's attack code
/// (<c>backdoor/utils.py</c>, patch_type "random", patch_location "random"), which the RVPT paper's BadNets uses:
/// a 16-pixel patch of the image's mean plus N(0, 1) noise, drawn per image, at a random top-left in [0, 224 - 16 - 1].
/// Rvpt's earlier default, a fixed 4 x 4-cell checkerboard at a position uniform over [0, 224 - 16], is
/// <c>new BadNetsOptions { Pattern = PatchPattern.Checkerboard(), Position = PatchPosition.Random() }</c>.
/// </summary>
public sealed record BadNetsOptions
{
    /// <summary>
    /// Patch side in pixels at 224. Default 16. At an H x W image the side is round(size * min(H, W) / 224), at
    /// least 1 (the patch stays square; min keeps it inside non-square images).
    /// </summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>
    /// Placement. Default <see cref="PatchPositionKind.RandomAsCleanClip"/> (per row, from the Apply seed and the row
    /// index, as CleanCLIP's code draws it).
    /// </summary>
    public PatchPosition Position { get; init; } = PatchPosition.RandomAsCleanClip();

    /// <summary>
    /// Fill. Default <see cref="PatchPattern.ImageMeanNoise"/> (CleanCLIP's "random" patch, drawn per image; values
    /// outside [0, 1] wrap as the code's uint8 conversion does).
    /// </summary>
    public PatchPattern Pattern { get; init; } = PatchPattern.ImageMeanNoise();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (PatchSize < 1 || PatchSize > TriggerInput.ReferenceSize)
            throw new ArgumentException($"PatchSize must be in [1, {TriggerInput.ReferenceSize}]; got {PatchSize}.", nameof(PatchSize));
        if (Position is null)
            throw new ArgumentException("Position must not be null.", nameof(Position));
        if (Pattern is null)
            throw new ArgumentException("Pattern must not be null.", nameof(Pattern));
        Position.Validate(PatchSize);
        Pattern.Validate();
    }
}
