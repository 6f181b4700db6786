namespace Rvpt;

/// <summary>
/// Settings of <see cref="AutoAugment"/>. The defaults are torchvision's <c>AutoAugment()</c>:
/// <c>policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST, fill=None</c>; the interpolation
/// (nearest) and the fill (0 outside the image) are fixed.
/// </summary>
public sealed record AutoAugmentOptions
{
    /// <summary>The sub-policy table. Default <see cref="AutoAugmentPolicy.ImageNet"/>.</summary>
    public AutoAugmentPolicy Policy { get; init; } = AutoAugmentPolicy.ImageNet;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException"><see cref="Policy"/> is not a defined value.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Policy))
            throw new ArgumentException($"{nameof(Policy)} must be one of {string.Join(", ", Enum.GetNames<AutoAugmentPolicy>())}, got {(int)Policy}.");
    }
}
