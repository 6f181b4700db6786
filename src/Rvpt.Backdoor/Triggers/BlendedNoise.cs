namespace Rvpt.Backdoor;

/// <summary>Where <see cref="BlendedTrigger"/>'s noise pattern comes from when no user pattern is given.</summary>
public enum BlendedNoise
{
    /// <summary>
    /// A fresh uniform [0, 1) pattern for every image, drawn from the Apply seed and the row, as CleanCLIP's code does
    /// (<c>backdoor/utils.py</c>, patch_type "blended": <c>torch.rand((3, 224, 224))</c> per call). The default.
    /// </summary>
    PerImage,

    /// <summary>One fixed uniform [0, 1) pattern from <see cref="BlendedOptions.PatternSeed"/> for every image (Rvpt's earlier default).</summary>
    Fixed,
}
