namespace Rvpt.Backdoor.Lab;

/// <summary>The attacks <see cref="SyntheticBackdoorLab"/> can plant.</summary>
public enum SyntheticAttack
{
    /// <summary>A checkerboard patch at a random position (<see cref="BadNetsTrigger"/>).</summary>
    BadNets,

    /// <summary>A blended noise pattern (<see cref="BlendedTrigger"/>).</summary>
    Blended,

    /// <summary>A smooth warp (<see cref="WaNetTrigger"/>).</summary>
    WaNet,

    /// <summary>A centre patch optimised on the clean model (<see cref="BadClipPatch"/>).</summary>
    BadClip,

    /// <summary>
    /// ISSBA's invisible, sample-specific StegaStamp residual (<see cref="IssbaTrigger"/>), its encoder trained on the
    /// world or read from a file (<see cref="SyntheticLabOptions.Issba"/>). Not among the demo's default attacks.
    /// </summary>
    Issba,
}
