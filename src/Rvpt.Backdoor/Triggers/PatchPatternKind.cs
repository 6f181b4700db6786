namespace Rvpt.Backdoor;

/// <summary>What a square patch trigger (BadNets, TrojVQA) is filled with.</summary>
public enum PatchPatternKind
{
    /// <summary>Alternating white/black cells, <see cref="PatchPattern.CheckerboardCells"/> per side, top-left cell white.</summary>
    Checkerboard,

    /// <summary>All ones.</summary>
    White,

    /// <summary>All zeros.</summary>
    Black,

    /// <summary>Uniform [0, 1) noise per pixel and channel, fixed by <see cref="PatchPattern.NoiseSeed"/>.</summary>
    RandomNoise,

    /// <summary>A user-given <c>[3, h, w]</c> image in [0, 1] (<see cref="PatchPattern.Custom"/>), resized with nearest neighbour.</summary>
    Custom,

    /// <summary>
    /// CleanCLIP's "random" patch (<c>backdoor/utils.py</c>, <c>apply_trigger</c>): per image and per draw, the image's
    /// per-channel mean plus standard normal noise; values outside [0, 1] follow <see cref="PatchPattern.Overflow"/>.
    /// </summary>
    ImageMeanNoise,

    /// <summary>CleanCLIP's "yellow" patch: red and green 1, blue 0.</summary>
    Yellow,
}
