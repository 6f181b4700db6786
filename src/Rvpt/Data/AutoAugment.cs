using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// The random choices of one <see cref="AutoAugment"/> call, as torchvision's <c>AutoAugment.get_params</c> makes them.
/// </summary>
/// <param name="SubPolicy">Index of the sub-policy.</param>
/// <param name="FirstProbability">Uniform draw in [0, 1) for the first step; it applies when at most the step's probability.</param>
/// <param name="SecondProbability">Uniform draw in [0, 1) for the second step.</param>
/// <param name="FirstNegative">Negate the first step's magnitude when it is signed (torchvision: <c>signs[0] == 0</c>).</param>
/// <param name="SecondNegative">Negate the second step's magnitude when it is signed.</param>
internal readonly record struct AutoAugmentDraw(int SubPolicy, double FirstProbability, double SecondProbability, bool FirstNegative, bool SecondNegative);

/// <summary>
/// torchvision's <c>AutoAugment</c> (default: the ImageNet policy, nearest interpolation, fill 0) on [3, H, W] [0, 1]
/// pixel tensors, the augmented image view of CleanCLIP's code (<c>utils/augment_image.py</c>). Each call picks one of
/// the policy's 25 sub-policies uniformly and applies each of its two ops with the op's probability, at the magnitude of
/// its bin in <c>_augmentation_space(10, (H, W))</c>, negated with probability 1/2 for the signed ops. The output has
/// the input's size; CLIP's preprocessing (e.g. <see cref="ClipEvalTransform"/>) comes after it, as in CleanCLIP.
/// </summary>
/// <remarks>
/// <para>
/// The semantics are torchvision's AutoAugment on a <b>uint8 tensor</b>: the image is quantised to
/// <c>round(clamp(x, 0, 1) * 255)</c>, the ops run on those 8-bit values with torchvision's tensor arithmetic (affine
/// ops through an affine grid and nearest <c>grid_sample</c>, colour ops in float32 truncated back to uint8, posterize,
/// solarize, autocontrast, equalize and invert on the integers), and the result is divided by 255. The golden tests
/// check every op bit for bit against torchvision 0.14. CleanCLIP's code applies AutoAugment to the PIL image, whose
/// torchvision path uses Pillow's implementations of the same ops; torchvision keeps the two paths close but not
/// identical (e.g. at rounding and at the edges of rotated images).
/// </para>
/// <para>
/// All randomness comes from the <see cref="Random"/> passed in, drawn in a fixed order that mirrors torchvision's
/// <c>get_params</c>: the sub-policy (<c>Next(25)</c>), the two steps' probability draws (<c>NextDouble</c>), then the
/// two steps' sign draws (<c>Next(2)</c>, 0 meaning negative); all five draws are made on every call, whether or not a
/// step applies or is signed, so the same seed gives the same output. A draw is compared with the step's probability in
/// float32, as torchvision compares its float32 draw. The instance is immutable and thread-safe; a <see cref="Random"/>
/// is not, so use one per thread. The work runs on the image's device in its own dispose scope.
/// </para>
/// </remarks>
public sealed class AutoAugment
{
    private readonly IReadOnlyList<AutoAugmentSubPolicy> subPolicies;

    /// <summary>Creates the augmentation.</summary>
    /// <param name="options">Settings; <see langword="null"/> means torchvision's defaults (the ImageNet policy).</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public AutoAugment(AutoAugmentOptions? options = null)
    {
        Options = options ?? new AutoAugmentOptions();
        Options.Validate();
        subPolicies = AutoAugmentPolicies.For(Options.Policy);
    }

    /// <summary>The settings in use.</summary>
    public AutoAugmentOptions Options { get; }

    /// <summary>Applies one randomly chosen sub-policy.</summary>
    /// <param name="pixels01">A floating-point [3, H, W] image in [0, 1]; it is not modified.</param>
    /// <param name="random">The source of randomness.</param>
    /// <returns>A new [3, H, W] tensor in [0, 1] (multiples of 1/255), with the input's dtype and device, owned by the caller.</returns>
    /// <exception cref="ArgumentException"><paramref name="pixels01"/> is not a floating-point [3, H, W] tensor.</exception>
    public Tensor Apply(Tensor pixels01, Random random)
    {
        CoOpAugmentation.CheckImage(pixels01);
        ArgumentNullException.ThrowIfNull(random);
        var draw = Draw(random);
        using var scope = NewDisposeScope();
        var quantised = pixels01.to_type(ScalarType.Float32).clamp(0, 1).mul(255).round().to_type(ScalarType.Byte);
        var augmented = ApplyUint8(quantised, draw);
        return augmented.to_type(ScalarType.Float32).div(255).to_type(pixels01.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The random choices of one call, drawn in the documented order.</summary>
    internal AutoAugmentDraw Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int subPolicy = random.Next(subPolicies.Count);
        double first = random.NextDouble(), second = random.NextDouble();
        bool firstNegative = random.Next(2) == 0, secondNegative = random.Next(2) == 0;
        return new AutoAugmentDraw(subPolicy, first, second, firstNegative, secondNegative);
    }

    /// <summary>torchvision's <c>AutoAugment.forward</c> on a uint8 [3, H, W] tensor with the given choices.</summary>
    /// <param name="image">A uint8 [3, H, W] tensor; it is not modified.</param>
    /// <param name="draw">The choices (<see cref="Draw"/>).</param>
    /// <returns>A new uint8 [3, H, W] tensor, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The image is not a uint8 [3, H, W] tensor.</exception>
    internal Tensor ApplyUint8(Tensor image, AutoAugmentDraw draw)
    {
        AutoAugmentOps.CheckImage(image);
        var (first, second) = subPolicies[draw.SubPolicy];
        int height = (int)image.shape[^2], width = (int)image.shape[^1];
        var result = Step(image, first, draw.FirstProbability, draw.FirstNegative, height, width);
        using (result)
            return Step(result, second, draw.SecondProbability, draw.SecondNegative, height, width);
    }

    /// <summary>One step: the op at its (signed) magnitude when the draw is at most its probability, else a copy.</summary>
    private static Tensor Step(Tensor image, AutoAugmentStep step, double probability, bool negative, int height, int width)
    {
        if (!((float)probability <= (float)step.Probability))
            return image.clone();
        var magnitude = step.Bin is int bin ? AutoAugmentOps.Magnitude(step.Op, bin, height, width) : 0.0;
        if (negative && AutoAugmentOps.IsSigned(step.Op))
            magnitude = -magnitude;
        return AutoAugmentOps.Apply(image, step.Op, magnitude);
    }
}
