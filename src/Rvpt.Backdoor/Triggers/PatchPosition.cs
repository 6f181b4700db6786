namespace Rvpt.Backdoor;

/// <summary>
/// Placement of a square patch trigger. Coordinates of <see cref="PatchPositionKind.Fixed"/> are given at 224 and
/// scale with each axis (round half away from zero), then are clamped so the scaled patch stays inside the image.
/// </summary>
public sealed record PatchPosition
{
    /// <summary>The placement rule. Default <see cref="PatchPositionKind.Random"/>.</summary>
    public PatchPositionKind Kind { get; init; } = PatchPositionKind.Random;

    /// <summary>Top row of the patch at 224 for <see cref="PatchPositionKind.Fixed"/>. Default 0.</summary>
    public int Y { get; init; }

    /// <summary>Left column of the patch at 224 for <see cref="PatchPositionKind.Fixed"/>. Default 0.</summary>
    public int X { get; init; }

    /// <summary>A random position per row, uniform over every top-left where the patch fits.</summary>
    public static PatchPosition Random() => new() { Kind = PatchPositionKind.Random };

    /// <summary>A random position per row as CleanCLIP's code draws it (<see cref="PatchPositionKind.RandomAsCleanClip"/>).</summary>
    public static PatchPosition RandomAsCleanClip() => new() { Kind = PatchPositionKind.RandomAsCleanClip };

    /// <summary>A fixed top-left corner (<paramref name="y"/>, <paramref name="x"/>) at 224.</summary>
    public static PatchPosition At(int y, int x) => new() { Kind = PatchPositionKind.Fixed, Y = y, X = x };

    /// <summary>A named placement (a corner or the centre).</summary>
    public static PatchPosition Named(PatchPositionKind kind) => new() { Kind = kind };

    /// <summary>Throws <see cref="ArgumentException"/> unless the position is valid for a patch of <paramref name="patchSizeAt224"/>.</summary>
    public void Validate(int patchSizeAt224)
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentException($"Unknown patch position kind {Kind}.", nameof(Kind));
        if (Kind != PatchPositionKind.Fixed) return;
        var max = TriggerInput.ReferenceSize - patchSizeAt224;
        if (Y < 0 || Y > max)
            throw new ArgumentException($"Y must be in [0, {max}] so a {patchSizeAt224}-pixel patch fits at 224; got {Y}.", nameof(Y));
        if (X < 0 || X > max)
            throw new ArgumentException($"X must be in [0, {max}] so a {patchSizeAt224}-pixel patch fits at 224; got {X}.", nameof(X));
    }

    /// <summary>Top-left corner of a <paramref name="side"/>-pixel patch in an H x W image for row <paramref name="row"/>.</summary>
    internal (long Y, long X) Resolve(long height, long width, long side, long seed, long row)
    {
        var maxY = height - side;
        var maxX = width - side;
        return Kind switch
        {
            // Separate hash streams for y and x so the two coordinates are independent.
            PatchPositionKind.Random => (
                TriggerRandom.UniformIndex(TriggerRandom.Hash(seed, row, 1), maxY + 1),
                TriggerRandom.UniformIndex(TriggerRandom.Hash(seed, row, 2), maxX + 1)),
            // random.randint(0, 223 - p) is inclusive: top-left in [0, S - p - 1] (0 when the patch fills the image).
            PatchPositionKind.RandomAsCleanClip => (
                TriggerRandom.UniformIndex(TriggerRandom.Hash(seed, row, 1), Math.Max(1, maxY)),
                TriggerRandom.UniformIndex(TriggerRandom.Hash(seed, row, 2), Math.Max(1, maxX))),
            PatchPositionKind.Fixed => (
                Math.Clamp(TriggerInput.ScaleCoordinate(Y, height), 0, maxY),
                Math.Clamp(TriggerInput.ScaleCoordinate(X, width), 0, maxX)),
            PatchPositionKind.TopLeft => (0, 0),
            PatchPositionKind.TopRight => (0, maxX),
            PatchPositionKind.BottomLeft => (maxY, 0),
            PatchPositionKind.BottomRight => (maxY, maxX),
            PatchPositionKind.Centre => (maxY / 2, maxX / 2),
            _ => throw new ArgumentException($"Unknown patch position kind {Kind}.", nameof(Kind)),
        };
    }
}
