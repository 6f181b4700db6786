namespace Rvpt.Backdoor;

/// <summary>Where a square patch trigger is placed.</summary>
public enum PatchPositionKind
{
    /// <summary>Per row, uniform over all top-left positions where the patch fits, from a hash of (seed, row).</summary>
    Random,

    /// <summary>Top-left corner at (<see cref="PatchPosition.Y"/>, <see cref="PatchPosition.X"/>) given at 224.</summary>
    Fixed,

    /// <summary>Touching the top and left edges.</summary>
    TopLeft,

    /// <summary>Touching the top and right edges.</summary>
    TopRight,

    /// <summary>Touching the bottom and left edges.</summary>
    BottomLeft,

    /// <summary>Touching the bottom and right edges (the usual BadNets corner).</summary>
    BottomRight,

    /// <summary>Centred: top-left at floor((H - side) / 2), floor((W - side) / 2).</summary>
    Centre,

    /// <summary>
    /// As CleanCLIP's and BadCLIP's code: per row, each coordinate uniform in [0, S - side - 1] (their
    /// <c>random.randint(0, 223 - patch_size)</c> at 224, so the last row and column never hold the patch).
    /// </summary>
    RandomAsCleanClip,
}
