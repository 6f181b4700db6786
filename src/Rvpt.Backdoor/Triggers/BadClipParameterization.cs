namespace Rvpt.Backdoor;

/// <summary>How <c>BadClipPatch.Optimize</c> parameterises the patch it optimises.</summary>
public enum BadClipParameterization
{
    /// <summary>
    /// As BadCLIP's code (<c>src/embeding_optimize_patch.py</c>): the free tensor is the patch in pixels, initialised
    /// from N(0.5, 0.25) clipped to [0, 1], and clipped to [0, 1] where it is pasted (so a pixel outside stops
    /// receiving gradient) and when saved. The default.
    /// </summary>
    ClippedPixels,

    /// <summary>Rvpt's earlier choice: the patch is the sigmoid of a free tensor initialised from N(0, 1).</summary>
    Sigmoid,
}
