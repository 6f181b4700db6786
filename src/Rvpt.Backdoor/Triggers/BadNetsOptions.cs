namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="BadNetsTrigger"/> (Gu et al. 2017).</summary>
public sealed record BadNetsOptions
{
    /// <summary>
    /// Patch side in pixels at 224. Default 16. At an H x W image the side is round(size * min(H, W) / 224), at
    /// least 1 (the patch stays square; min keeps it inside non-square images).
    /// </summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>Placement. Default <see cref="PatchPositionKind.Random"/> (per row, from the Apply seed and the row index).</summary>
    public PatchPosition Position { get; init; } = PatchPosition.Random();

    /// <summary>Fill. Default a 4 x 4-cell checkerboard (<see cref="PatchPattern.Checkerboard"/>).</summary>
    public PatchPattern Pattern { get; init; } = PatchPattern.Checkerboard();

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
