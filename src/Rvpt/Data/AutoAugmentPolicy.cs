namespace Rvpt;

/// <summary>
/// The learnt sub-policy tables of <see cref="AutoAugment"/>, as torchvision's <c>AutoAugmentPolicy</c>
/// (Cubuk et al., "AutoAugment: Learning Augmentation Strategies from Data", CVPR 2019).
/// </summary>
public enum AutoAugmentPolicy
{
    /// <summary>The ImageNet policy (torchvision's default, and the one CleanCLIP's code uses).</summary>
    ImageNet,

    /// <summary>The CIFAR-10 policy.</summary>
    Cifar10,

    /// <summary>The SVHN policy.</summary>
    Svhn,
}
