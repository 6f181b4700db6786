namespace Rvpt;

/// <summary>One step of an AutoAugment sub-policy: an op, the probability it is applied and its magnitude bin.</summary>
/// <param name="Op">The op.</param>
/// <param name="Probability">Applied when the step's uniform draw is at most this (torchvision: <c>probs[i] &lt;= p</c>).</param>
/// <param name="Bin">Index into the op's 10 magnitudes; <see langword="null"/> for the ops without a magnitude.</param>
internal readonly record struct AutoAugmentStep(AutoAugmentOp Op, double Probability, int? Bin);

/// <summary>An AutoAugment sub-policy: two steps, applied in order.</summary>
/// <param name="First">The first step.</param>
/// <param name="Second">The second step.</param>
internal readonly record struct AutoAugmentSubPolicy(AutoAugmentStep First, AutoAugmentStep Second);

/// <summary>
/// The 25 sub-policies of each <see cref="AutoAugmentPolicy"/>, copied in order from torchvision's
/// <c>AutoAugment._get_policies</c> (transforms/autoaugment.py, torchvision 0.14; the tables have not changed since
/// they were added in 0.10).
/// </summary>
internal static class AutoAugmentPolicies
{
    private static readonly AutoAugmentSubPolicy[] ImageNet =
    [
        P(AutoAugmentOp.Posterize, 0.4, 8, AutoAugmentOp.Rotate, 0.6, 9),
        P(AutoAugmentOp.Solarize, 0.6, 5, AutoAugmentOp.AutoContrast, 0.6, null),
        P(AutoAugmentOp.Equalize, 0.8, null, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.Posterize, 0.6, 7, AutoAugmentOp.Posterize, 0.6, 6),
        P(AutoAugmentOp.Equalize, 0.4, null, AutoAugmentOp.Solarize, 0.2, 4),
        P(AutoAugmentOp.Equalize, 0.4, null, AutoAugmentOp.Rotate, 0.8, 8),
        P(AutoAugmentOp.Solarize, 0.6, 3, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.Posterize, 0.8, 5, AutoAugmentOp.Equalize, 1.0, null),
        P(AutoAugmentOp.Rotate, 0.2, 3, AutoAugmentOp.Solarize, 0.6, 8),
        P(AutoAugmentOp.Equalize, 0.6, null, AutoAugmentOp.Posterize, 0.4, 6),
        P(AutoAugmentOp.Rotate, 0.8, 8, AutoAugmentOp.Color, 0.4, 0),
        P(AutoAugmentOp.Rotate, 0.4, 9, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.Equalize, 0.0, null, AutoAugmentOp.Equalize, 0.8, null),
        P(AutoAugmentOp.Invert, 0.6, null, AutoAugmentOp.Equalize, 1.0, null),
        P(AutoAugmentOp.Color, 0.6, 4, AutoAugmentOp.Contrast, 1.0, 8),
        P(AutoAugmentOp.Rotate, 0.8, 8, AutoAugmentOp.Color, 1.0, 2),
        P(AutoAugmentOp.Color, 0.8, 8, AutoAugmentOp.Solarize, 0.8, 7),
        P(AutoAugmentOp.Sharpness, 0.4, 7, AutoAugmentOp.Invert, 0.6, null),
        P(AutoAugmentOp.ShearX, 0.6, 5, AutoAugmentOp.Equalize, 1.0, null),
        P(AutoAugmentOp.Color, 0.4, 0, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.Equalize, 0.4, null, AutoAugmentOp.Solarize, 0.2, 4),
        P(AutoAugmentOp.Solarize, 0.6, 5, AutoAugmentOp.AutoContrast, 0.6, null),
        P(AutoAugmentOp.Invert, 0.6, null, AutoAugmentOp.Equalize, 1.0, null),
        P(AutoAugmentOp.Color, 0.6, 4, AutoAugmentOp.Contrast, 1.0, 8),
        P(AutoAugmentOp.Equalize, 0.8, null, AutoAugmentOp.Equalize, 0.6, null),
    ];

    private static readonly AutoAugmentSubPolicy[] Cifar10 =
    [
        P(AutoAugmentOp.Invert, 0.1, null, AutoAugmentOp.Contrast, 0.2, 6),
        P(AutoAugmentOp.Rotate, 0.7, 2, AutoAugmentOp.TranslateX, 0.3, 9),
        P(AutoAugmentOp.Sharpness, 0.8, 1, AutoAugmentOp.Sharpness, 0.9, 3),
        P(AutoAugmentOp.ShearY, 0.5, 8, AutoAugmentOp.TranslateY, 0.7, 9),
        P(AutoAugmentOp.AutoContrast, 0.5, null, AutoAugmentOp.Equalize, 0.9, null),
        P(AutoAugmentOp.ShearY, 0.2, 7, AutoAugmentOp.Posterize, 0.3, 7),
        P(AutoAugmentOp.Color, 0.4, 3, AutoAugmentOp.Brightness, 0.6, 7),
        P(AutoAugmentOp.Sharpness, 0.3, 9, AutoAugmentOp.Brightness, 0.7, 9),
        P(AutoAugmentOp.Equalize, 0.6, null, AutoAugmentOp.Equalize, 0.5, null),
        P(AutoAugmentOp.Contrast, 0.6, 7, AutoAugmentOp.Sharpness, 0.6, 5),
        P(AutoAugmentOp.Color, 0.7, 7, AutoAugmentOp.TranslateX, 0.5, 8),
        P(AutoAugmentOp.Equalize, 0.3, null, AutoAugmentOp.AutoContrast, 0.4, null),
        P(AutoAugmentOp.TranslateY, 0.4, 3, AutoAugmentOp.Sharpness, 0.2, 6),
        P(AutoAugmentOp.Brightness, 0.9, 6, AutoAugmentOp.Color, 0.2, 8),
        P(AutoAugmentOp.Solarize, 0.5, 2, AutoAugmentOp.Invert, 0.0, null),
        P(AutoAugmentOp.Equalize, 0.2, null, AutoAugmentOp.AutoContrast, 0.6, null),
        P(AutoAugmentOp.Equalize, 0.2, null, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.Color, 0.9, 9, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.AutoContrast, 0.8, null, AutoAugmentOp.Solarize, 0.2, 8),
        P(AutoAugmentOp.Brightness, 0.1, 3, AutoAugmentOp.Color, 0.7, 0),
        P(AutoAugmentOp.Solarize, 0.4, 5, AutoAugmentOp.AutoContrast, 0.9, null),
        P(AutoAugmentOp.TranslateY, 0.9, 9, AutoAugmentOp.TranslateY, 0.7, 9),
        P(AutoAugmentOp.AutoContrast, 0.9, null, AutoAugmentOp.Solarize, 0.8, 3),
        P(AutoAugmentOp.Equalize, 0.8, null, AutoAugmentOp.Invert, 0.1, null),
        P(AutoAugmentOp.TranslateY, 0.7, 9, AutoAugmentOp.AutoContrast, 0.9, null),
    ];

    private static readonly AutoAugmentSubPolicy[] Svhn =
    [
        P(AutoAugmentOp.ShearX, 0.9, 4, AutoAugmentOp.Invert, 0.2, null),
        P(AutoAugmentOp.ShearY, 0.9, 8, AutoAugmentOp.Invert, 0.7, null),
        P(AutoAugmentOp.Equalize, 0.6, null, AutoAugmentOp.Solarize, 0.6, 6),
        P(AutoAugmentOp.Invert, 0.9, null, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.Equalize, 0.6, null, AutoAugmentOp.Rotate, 0.9, 3),
        P(AutoAugmentOp.ShearX, 0.9, 4, AutoAugmentOp.AutoContrast, 0.8, null),
        P(AutoAugmentOp.ShearY, 0.9, 8, AutoAugmentOp.Invert, 0.4, null),
        P(AutoAugmentOp.ShearY, 0.9, 5, AutoAugmentOp.Solarize, 0.2, 6),
        P(AutoAugmentOp.Invert, 0.9, null, AutoAugmentOp.AutoContrast, 0.8, null),
        P(AutoAugmentOp.Equalize, 0.6, null, AutoAugmentOp.Rotate, 0.9, 3),
        P(AutoAugmentOp.ShearX, 0.9, 4, AutoAugmentOp.Solarize, 0.3, 3),
        P(AutoAugmentOp.ShearY, 0.8, 8, AutoAugmentOp.Invert, 0.7, null),
        P(AutoAugmentOp.Equalize, 0.9, null, AutoAugmentOp.TranslateY, 0.6, 6),
        P(AutoAugmentOp.Invert, 0.9, null, AutoAugmentOp.Equalize, 0.6, null),
        P(AutoAugmentOp.Contrast, 0.3, 3, AutoAugmentOp.Rotate, 0.8, 4),
        P(AutoAugmentOp.Invert, 0.8, null, AutoAugmentOp.TranslateY, 0.0, 2),
        P(AutoAugmentOp.ShearY, 0.7, 6, AutoAugmentOp.Solarize, 0.4, 8),
        P(AutoAugmentOp.Invert, 0.6, null, AutoAugmentOp.Rotate, 0.8, 4),
        P(AutoAugmentOp.ShearY, 0.3, 7, AutoAugmentOp.TranslateX, 0.9, 3),
        P(AutoAugmentOp.ShearX, 0.1, 6, AutoAugmentOp.Invert, 0.6, null),
        P(AutoAugmentOp.Solarize, 0.7, 2, AutoAugmentOp.TranslateY, 0.6, 7),
        P(AutoAugmentOp.ShearY, 0.8, 4, AutoAugmentOp.Invert, 0.8, null),
        P(AutoAugmentOp.ShearX, 0.7, 9, AutoAugmentOp.TranslateY, 0.8, 3),
        P(AutoAugmentOp.ShearY, 0.8, 5, AutoAugmentOp.AutoContrast, 0.7, null),
        P(AutoAugmentOp.ShearX, 0.7, 2, AutoAugmentOp.Invert, 0.1, null),
    ];

    /// <summary>The 25 sub-policies of <paramref name="policy"/>, in torchvision's order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="policy"/> is not a defined value.</exception>
    public static IReadOnlyList<AutoAugmentSubPolicy> For(AutoAugmentPolicy policy) => policy switch
    {
        AutoAugmentPolicy.ImageNet => ImageNet,
        AutoAugmentPolicy.Cifar10 => Cifar10,
        AutoAugmentPolicy.Svhn => Svhn,
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown AutoAugment policy."),
    };

    private static AutoAugmentSubPolicy P(AutoAugmentOp op1, double p1, int? bin1, AutoAugmentOp op2, double p2, int? bin2) =>
        new(new AutoAugmentStep(op1, p1, bin1), new AutoAugmentStep(op2, p2, bin2));
}
