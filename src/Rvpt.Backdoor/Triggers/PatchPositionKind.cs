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
}
