using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>The 14 ops of torchvision's AutoAugment, in the order of its <c>_augmentation_space</c>.</summary>
internal enum AutoAugmentOp
{
    /// <summary>Shear along x by <c>atan(magnitude)</c> about the top-left corner.</summary>
    ShearX,

    /// <summary>Shear along y by <c>atan(magnitude)</c> about the top-left corner.</summary>
    ShearY,

    /// <summary>Translate along x by <c>int(magnitude)</c> pixels.</summary>
    TranslateX,

    /// <summary>Translate along y by <c>int(magnitude)</c> pixels.</summary>
    TranslateY,

    /// <summary>Rotate by magnitude degrees (counter-clockwise) about the centre.</summary>
    Rotate,

    /// <summary>Brightness factor <c>1 + magnitude</c>.</summary>
    Brightness,

    /// <summary>Saturation factor <c>1 + magnitude</c>.</summary>
    Color,

    /// <summary>Contrast factor <c>1 + magnitude</c>.</summary>
    Contrast,

    /// <summary>Sharpness factor <c>1 + magnitude</c>.</summary>
    Sharpness,

    /// <summary>Keep <c>int(magnitude)</c> bits.</summary>
    Posterize,

    /// <summary>Invert the values at or above the magnitude.</summary>
    Solarize,

    /// <summary>Stretch each channel to [0, 255].</summary>
    AutoContrast,

    /// <summary>Equalise each channel's histogram.</summary>
    Equalize,

    /// <summary><c>255 - x</c>.</summary>
    Invert,
}

/// <summary>
/// The ops of torchvision's AutoAugment on uint8 [3, H, W] tensors, restated from torchvision 0.14's
/// <c>transforms/autoaugment.py</c> (<c>_apply_op</c>, <c>_augmentation_space</c>) and
/// <c>transforms/functional_tensor.py</c> (<c>affine</c>/<c>rotate</c> through <c>_gen_affine_grid</c> and
/// <c>grid_sample</c> with NEAREST and fill None, <c>adjust_brightness/saturation/contrast/sharpness</c>,
/// <c>posterize</c>, <c>solarize</c>, <c>autocontrast</c>, <c>equalize</c>, <c>invert</c>), with the same float32
/// arithmetic in the same order so that the results are bit-identical (checked against torchvision by the golden
/// tests). All tensors are made on the image's device; every op returns a new tensor.
/// </summary>
internal static class AutoAugmentOps
{
    /// <summary>torchvision's <c>num_bins</c> in <c>AutoAugment.forward</c>.</summary>
    public const int MagnitudeBins = 10;

    private const double DegreesToRadians = Math.PI / 180.0; // CPython's math.radians
    private const double RadiansToDegrees = 180.0 / Math.PI; // CPython's math.degrees

    /// <summary>Whether the op's magnitude gets a random sign (torchvision's <c>signed</c>).</summary>
    public static bool IsSigned(AutoAugmentOp op) => op <= AutoAugmentOp.Sharpness;

    /// <summary>
    /// The magnitude at <paramref name="bin"/> of torchvision's <c>_augmentation_space(10, (height, width))</c>, as the
    /// Python float <c>float(magnitudes[bin].item())</c> of its float32 table (0 for the ops without a magnitude).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The bin is not in [0, 10) or a size is not positive.</exception>
    public static double Magnitude(AutoAugmentOp op, int bin, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bin);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bin, MagnitudeBins);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        return op switch
        {
            AutoAugmentOp.ShearX or AutoAugmentOp.ShearY => Linspace(0.0, 0.3, bin),
            AutoAugmentOp.TranslateX => Linspace(0.0, 150.0 / 331.0 * width, bin),
            AutoAugmentOp.TranslateY => Linspace(0.0, 150.0 / 331.0 * height, bin),
            AutoAugmentOp.Rotate => Linspace(0.0, 30.0, bin),
            AutoAugmentOp.Brightness or AutoAugmentOp.Color or AutoAugmentOp.Contrast or AutoAugmentOp.Sharpness => Linspace(0.0, 0.9, bin),
            // 8 - (torch.arange(10) / ((10 - 1) / 4)).round().int(): float32 division, round half to even.
            AutoAugmentOp.Posterize => 8 - (int)MathF.Round(bin / (float)((MagnitudeBins - 1) / 4.0), MidpointRounding.ToEven),
            AutoAugmentOp.Solarize => Linspace(255.0, 0.0, bin),
            _ => 0.0,
        };
    }

    /// <summary>
    /// <c>torch.linspace(start, end, 10)[bin]</c> in float32 as libtorch's CPU kernel computes it for so few steps (its
    /// scalar loop, <c>linspace_kernel</c>): <c>step = (end - start) / 9</c>, then <c>start + step * i</c> for the first
    /// half and <c>end - step * (9 - i)</c> for the rest, each rounded once (a fused multiply-add, as torch 1.13's
    /// kernel evaluates it on this x86-64 machine: the golden test checks every TranslateX width 1..256; rounding the
    /// product separately is one ulp off at e.g. bin 6 of width 28).
    /// </summary>
    private static double Linspace(double start, double end, int bin)
    {
        float s = (float)start, e = (float)end;
        float step = (e - s) / (MagnitudeBins - 1);
        return bin < MagnitudeBins / 2 ? MathF.FusedMultiplyAdd(step, bin, s) : MathF.FusedMultiplyAdd(-step, MagnitudeBins - bin - 1, e);
    }

    /// <summary>
    /// torchvision's <c>_apply_op(image, op, magnitude, interpolation=NEAREST, fill=None)</c> on a uint8 [3, H, W] tensor.
    /// </summary>
    /// <param name="image">A uint8 [3, H, W] tensor; it is not modified.</param>
    /// <param name="op">The op.</param>
    /// <param name="magnitude">The signed magnitude, as torchvision passes it (ignored by the ops without one).</param>
    /// <returns>A new uint8 [3, H, W] tensor on the image's device.</returns>
    /// <exception cref="ArgumentException">The image is not a uint8 [3, H, W] tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A factor <c>1 + magnitude</c> is negative, Posterize's bits are not in [0, 8], or Solarize's threshold exceeds 255 (torchvision refuses these too).</exception>
    public static Tensor Apply(Tensor image, AutoAugmentOp op, double magnitude)
    {
        CheckImage(image);
        int height = (int)image.shape[1], width = (int)image.shape[2];
        using var scope = NewDisposeScope();
        var result = op switch
        {
            // center=[0, 0] (the top-left corner; torchvision >= 0.13), shear = math.degrees(math.atan(magnitude)).
            AutoAugmentOp.ShearX => Affine(image, InverseAffineMatrix(-width * 0.5, -height * 0.5, 0.0, 0.0, 0.0, Math.Atan(magnitude) * RadiansToDegrees, 0.0)),
            AutoAugmentOp.ShearY => Affine(image, InverseAffineMatrix(-width * 0.5, -height * 0.5, 0.0, 0.0, 0.0, 0.0, Math.Atan(magnitude) * RadiansToDegrees)),
            AutoAugmentOp.TranslateX => Affine(image, InverseAffineMatrix(0.0, 0.0, 0.0, (int)magnitude, 0.0, 0.0, 0.0)),
            AutoAugmentOp.TranslateY => Affine(image, InverseAffineMatrix(0.0, 0.0, 0.0, 0.0, (int)magnitude, 0.0, 0.0)),
            // F.rotate passes -angle to the matrix ("incoherence of rotation angle direction between affine and rotate").
            AutoAugmentOp.Rotate => Affine(image, InverseAffineMatrix(0.0, 0.0, -magnitude, 0.0, 0.0, 0.0, 0.0)),
            AutoAugmentOp.Brightness => Blend(image, zeros(1, dtype: ScalarType.Float32, device: image.device), Factor(magnitude)),
            AutoAugmentOp.Color => Blend(image, Grayscale(image), Factor(magnitude)),
            AutoAugmentOp.Contrast => Blend(image, Grayscale(image).to_type(ScalarType.Float32).mean([-3L, -2L, -1L], keepdim: true), Factor(magnitude)),
            AutoAugmentOp.Sharpness => Sharpness(image, Factor(magnitude)),
            AutoAugmentOp.Posterize => Posterize(image, (int)magnitude),
            AutoAugmentOp.Solarize => Solarize(image, magnitude),
            AutoAugmentOp.AutoContrast => AutoContrast(image),
            AutoAugmentOp.Equalize => Equalize(image),
            AutoAugmentOp.Invert => image.bitwise_not(), // 255 - x on uint8
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown AutoAugment op."),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Throws unless <paramref name="image"/> is a uint8 [3, H, W] tensor with H, W &gt; 0.</summary>
    /// <exception cref="ArgumentException">It is not.</exception>
    public static void CheckImage(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 3 || image.shape[0] != 3 || image.shape[1] == 0 || image.shape[2] == 0 || image.dtype != ScalarType.Byte)
            throw new ArgumentException($"Expected a uint8 [3, H, W] image, got {image.dtype} [{string.Join(", ", image.shape)}].", nameof(image));
    }

    private static double Factor(double magnitude)
    {
        var factor = 1.0 + magnitude;
        if (!(factor >= 0))
            throw new ArgumentOutOfRangeException(nameof(magnitude), magnitude, "The factor 1 + magnitude must be non-negative.");
        return factor;
    }

    /// <summary>
    /// torchvision's <c>_get_inverse_affine_matrix(center, angle, translate, scale=1, shear)</c> (inverted), in
    /// doubles as Python computes it; the centre is relative to the image centre.
    /// </summary>
    internal static double[] InverseAffineMatrix(double cx, double cy, double angle, double tx, double ty, double shearX, double shearY)
    {
        double rot = angle * DegreesToRadians, sx = shearX * DegreesToRadians, sy = shearY * DegreesToRadians;
        double a = Math.Cos(rot - sy) / Math.Cos(sy);
        double b = -Math.Cos(rot - sy) * Math.Tan(sx) / Math.Cos(sy) - Math.Sin(rot);
        double c = Math.Sin(rot - sy) / Math.Cos(sy);
        double d = -Math.Sin(rot - sy) * Math.Tan(sx) / Math.Cos(sy) + Math.Cos(rot);
        // [d, -b, 0, -c, a, 0] / scale with scale 1, then the translation and the centre.
        var m = new[] { d, -b, 0.0, -c, a, 0.0 };
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
        m[2] += cx;
        m[5] += cy;
        return m;
    }

    /// <summary>
    /// functional_tensor's <c>affine</c> / <c>rotate</c> (no expand) with NEAREST and fill None: the output grid of
    /// <c>_gen_affine_grid</c>, <c>grid_sample</c> (zeros padding, align_corners False) on the float32 image, then round
    /// and cast back to uint8.
    /// </summary>
    private static Tensor Affine(Tensor image, double[] matrix)
    {
        int height = (int)image.shape[1], width = (int)image.shape[2];
        var device = image.device;
        var theta = tensor(matrix.Select(v => (float)v).ToArray(), dtype: ScalarType.Float32, device: device).reshape(1, 2, 3);
        const double d = 0.5;
        var baseGrid = empty([1, height, width, 3], dtype: ScalarType.Float32, device: device);
        baseGrid[TensorIndex.Ellipsis, 0].copy_(linspace(-width * 0.5 + d, width * 0.5 + d - 1, width, dtype: ScalarType.Float32, device: device));
        baseGrid[TensorIndex.Ellipsis, 1].copy_(linspace(-height * 0.5 + d, height * 0.5 + d - 1, height, dtype: ScalarType.Float32, device: device).unsqueeze_(-1));
        baseGrid[TensorIndex.Ellipsis, 2].fill_(1);
        var rescaledTheta = theta.transpose(1, 2) / tensor(new[] { (float)(0.5 * width), (float)(0.5 * height) }, dtype: ScalarType.Float32, device: device);
        var grid = baseGrid.view(1, height * width, 3).bmm(rescaledTheta).view(1, height, width, 2);
        var sampled = nn.functional.grid_sample(image.unsqueeze(0).to_type(ScalarType.Float32), grid,
            mode: GridSampleMode.Nearest, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
        return sampled.squeeze(0).round().to_type(ScalarType.Byte);
    }

    /// <summary>
    /// functional_tensor's <c>_blend</c>: <c>(ratio * image + (1 - ratio) * other).clamp(0, 255)</c> in float32, cast
    /// (truncated) to uint8. <paramref name="other"/> broadcasts against the image.
    /// </summary>
    private static Tensor Blend(Tensor image, Tensor other, double ratio) =>
        (image.to_type(ScalarType.Float32) * ratio + other.to_type(ScalarType.Float32) * (1.0 - ratio)).clamp(0, 255).to_type(ScalarType.Byte);

    /// <summary>functional_tensor's <c>rgb_to_grayscale</c>: <c>(0.2989 r + 0.587 g + 0.114 b)</c> in float32, cast to uint8, [1, H, W].</summary>
    private static Tensor Grayscale(Tensor image)
    {
        var rgb = image.to_type(ScalarType.Float32).unbind(0);
        return (rgb[0] * 0.2989 + rgb[1] * 0.587 + rgb[2] * 0.114).to_type(ScalarType.Byte).unsqueeze(0);
    }

    /// <summary>
    /// functional_tensor's <c>adjust_sharpness</c>: the blend with <c>_blurred_degenerate_image</c> (a 3 x 3 smoothing
    /// kernel, centre weight 5 of 13, on the interior; the border kept), rounded to uint8 before the blend.
    /// </summary>
    private static Tensor Sharpness(Tensor image, double factor)
    {
        if (image.shape[1] <= 2 || image.shape[2] <= 2)
            return image.clone();
        var kernel = ones([3, 3], dtype: ScalarType.Float32, device: image.device);
        kernel[1, 1] = 5.0f;
        kernel = (kernel / kernel.sum()).expand(3, 1, 3, 3);
        var blurred = nn.functional.conv2d(image.unsqueeze(0).to_type(ScalarType.Float32), kernel, groups: 3).squeeze(0).round().to_type(ScalarType.Byte);
        var degenerate = image.clone();
        degenerate[TensorIndex.Ellipsis, TensorIndex.Slice(1, -1), TensorIndex.Slice(1, -1)] = blurred;
        return Blend(image, degenerate, factor);
    }

    /// <summary>functional_tensor's <c>posterize</c>: <c>image &amp; -2^(8 - bits)</c> (the low 8 - bits bits cleared).</summary>
    private static Tensor Posterize(Tensor image, int bits)
    {
        if (bits is < 0 or > 8)
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "Posterize keeps 0 to 8 bits.");
        var mask = tensor((byte)(256 - (1 << (8 - bits))), dtype: ScalarType.Byte, device: image.device);
        return image.bitwise_and(mask);
    }

    /// <summary>functional_tensor's <c>solarize</c>: <c>where(image >= threshold, 255 - image, image)</c>, compared in float32.</summary>
    private static Tensor Solarize(Tensor image, double threshold)
    {
        if (threshold > 255)
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "Solarize's threshold must be at most 255.");
        return where(image.to_type(ScalarType.Float32).ge((float)threshold), image.bitwise_not(), image);
    }

    /// <summary>
    /// functional_tensor's <c>autocontrast</c>: per channel <c>(x - min) * scale</c> with <c>scale = 255 / (max - min)</c>
    /// computed as Python's <c>Tensor.__rtruediv__</c> does (<c>reciprocal(max - min) * 255</c>); a flat channel
    /// (infinite scale) is left as it is. Clamped to [0, 255] and truncated to uint8.
    /// </summary>
    private static Tensor AutoContrast(Tensor image)
    {
        var minimum = image.amin([-2L, -1L], keepdim: true).to_type(ScalarType.Float32);
        var maximum = image.amax([-2L, -1L], keepdim: true).to_type(ScalarType.Float32);
        var scale = (maximum - minimum).reciprocal() * 255.0;
        var flat = scale.isfinite().logical_not();
        minimum = where(flat, zeros_like(minimum), minimum);
        scale = where(flat, ones_like(scale), scale);
        return ((image.to_type(ScalarType.Float32) - minimum) * scale).clamp(0, 255).to_type(ScalarType.Byte);
    }

    /// <summary>
    /// functional_tensor's <c>equalize</c> (<c>_scale_channel</c> per channel) in exact integer arithmetic:
    /// <c>step = sum(nonzero_hist[:-1]) // 255</c> (all pixels but those of the channel's largest value), the table
    /// <c>(cumsum(hist) + step // 2) // step</c> shifted right by one and clamped to [0, 255]; a channel with step 0 is
    /// left as it is. The three channels are done at once (histogram bins offset by 256 per channel).
    /// </summary>
    private static Tensor Equalize(Tensor image)
    {
        long channels = image.shape[0], pixels = image.shape[1] * image.shape[2];
        var device = image.device;
        var values = image.reshape(channels, pixels).to_type(ScalarType.Int64);
        var offsets = arange(channels, dtype: ScalarType.Int64, device: device).unsqueeze(1) * 256;
        var histogram = (values + offsets).flatten().bincount(null, channels * 256).reshape(channels, 256);
        var lastNonZero = histogram.gather(1, values.amax([1L], keepdim: true));
        var step = (pixels - lastNonZero).div(255, RoundingMode.floor);
        var table = (histogram.cumsum(1) + step.div(2, RoundingMode.floor)).div(step.clamp_min(1), RoundingMode.floor);
        table = cat([zeros([channels, 1], dtype: ScalarType.Int64, device: device), table.narrow(1, 0, 255)], 1).clamp(0, 255);
        var equalised = where(step.eq(0), values, table.gather(1, values));
        return equalised.to_type(ScalarType.Byte).reshape(image.shape);
    }
}
