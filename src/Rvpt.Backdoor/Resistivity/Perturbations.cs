using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// The paper's perturbations for resistivity: Gaussian noise (std 0.001), Gaussian blur (kernel 3 and "variance 5",
/// read as torchvision's <c>GaussianBlur(kernel_size=3, sigma=5)</c>: sigma is the argument the paper most plausibly
/// passed; <c>GaussianBlur(3, Math.Sqrt(5))</c> is the literal variance), colour jitter (brightness 0.5, hue 0.3, as
/// torchvision's <c>ColorJitter</c>, its components in random order), horizontal flip, and any trigger.
/// </summary>
public static class Perturbations
{
    /// <summary>The five standard perturbations plus the given triggers.</summary>
    public static IReadOnlyList<IImagePerturbation> Standard(params ITrigger[] triggers) =>
        new IImagePerturbation[] { GaussianNoise(), GaussianBlur(), ColorJitter(), HorizontalFlip() }
            .Concat(triggers.Select(FromTrigger)).ToArray();

    /// <summary>Additive Gaussian noise, clamped to [0, 1].</summary>
    public static IImagePerturbation GaussianNoise(double std = 0.001) => new Lambda($"Gaussian noise ({std})", (x, seed) =>
    {
        var g = new Generator((ulong)seed, CPU);
        return (x + std * randn(x.shape, generator: g).to(x.dtype, x.device)).clamp(0, 1);
    });

    /// <summary>
    /// Gaussian blur with a square kernel (reflect padding) and a fixed <paramref name="sigma"/> (the standard deviation,
    /// torchvision's <c>gaussian_blur</c> argument). Default kernel 3, sigma 5 (the paper's "variance 5" read as
    /// torchvision's sigma).
    /// </summary>
    public static IImagePerturbation GaussianBlur(int kernel = 3, double sigma = 5.0)
    {
        if (!(sigma > 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "Sigma must be positive and finite.");
        return Blur(kernel, $"Gaussian blur (k={kernel}, sigma={sigma})", _ => sigma);
    }

    /// <summary>
    /// Gaussian blur with sigma uniform in [<paramref name="minSigma"/>, <paramref name="maxSigma"/>] per image, as
    /// torchvision's <c>GaussianBlur</c> with a sigma range (Rvpt's earlier resistivity blur used [0.1, 2]).
    /// </summary>
    public static IImagePerturbation GaussianBlur(int kernel, double minSigma, double maxSigma)
    {
        if (!(minSigma > 0 && maxSigma >= minSigma) || double.IsInfinity(maxSigma))
            throw new ArgumentOutOfRangeException(nameof(minSigma), minSigma, $"Need 0 < minSigma <= maxSigma (got {minSigma}, {maxSigma}).");
        return Blur(kernel, $"Gaussian blur (k={kernel}, sigma in [{minSigma}, {maxSigma}])", random => minSigma + (maxSigma - minSigma) * random.NextDouble());
    }

    private static IImagePerturbation Blur(int kernel, string name, Func<Random, double> sigmaOf)
    {
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel size must be odd and positive.");
        return new Lambda(name, (x, seed) =>
        {
            var random = new Random(unchecked((int)seed));
            var rows = new List<Tensor>();
            for (int i = 0; i < x.shape[0]; i++)
                rows.Add(BlurImage(x.narrow(0, i, 1), kernel, sigmaOf(random)));
            return cat(rows, 0);
        });
    }

    /// <summary>torchvision's <c>gaussian_blur</c> on <c>[1, 3, H, W]</c>: kernel <c>exp(-x^2 / (2 sigma^2))</c> normalised, reflect padding.</summary>
    internal static Tensor BlurImage(Tensor image, int kernel, double sigma)
    {
        using var scope = NewDisposeScope();
        var k1 = Enumerable.Range(0, kernel).Select(j => Math.Exp(-Math.Pow(j - kernel / 2, 2) / (2 * sigma * sigma))).ToArray();
        var sum = k1.Sum();
        var k = tensor(k1.Select(v => (float)(v / sum)).ToArray()).to(image.dtype, image.device);
        var k2 = k.outer(k).expand(3, 1, kernel, kernel);
        var padded = nn.functional.pad(image, new long[] { kernel / 2, kernel / 2, kernel / 2, kernel / 2 }, PaddingModes.Reflect);
        return nn.functional.conv2d(padded, k2, groups: 3).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Colour jitter as torchvision's <c>ColorJitter(brightness, hue)</c>: per image, a brightness factor uniform in
    /// [1 - b, 1 + b] and a hue shift uniform in [-h, h] (fraction of the hue circle), applied in a random order (as
    /// its <c>torch.randperm</c> over the components does); clamped to [0, 1].
    /// </summary>
    public static IImagePerturbation ColorJitter(double brightness = 0.5, double hue = 0.3)
    {
        if (brightness < 0) throw new ArgumentOutOfRangeException(nameof(brightness));
        if (hue is < 0 or > 0.5) throw new ArgumentOutOfRangeException(nameof(hue), hue, "Hue jitter must be in [0, 0.5].");
        return new Lambda($"colour jitter (b={brightness}, h={hue})", (x, seed) =>
        {
            var random = new Random(unchecked((int)seed));
            var rows = new List<Tensor>();
            for (int i = 0; i < x.shape[0]; i++)
            {
                bool brightnessFirst = random.Next(2) == 0;
                double b = 1 - brightness + 2 * brightness * random.NextDouble();
                double h = -hue + 2 * hue * random.NextDouble();
                rows.Add(Jitter(x.narrow(0, i, 1), b, h, brightnessFirst));
            }
            return cat(rows, 0);
        });
    }

    /// <summary>torchvision's <c>adjust_brightness</c> (<c>clamp(b x, 0, 1)</c>) and <c>adjust_hue</c>, in the given order.</summary>
    internal static Tensor Jitter(Tensor images, double brightness, double hue, bool brightnessFirst)
    {
        using var scope = NewDisposeScope();
        Tensor Brightness(Tensor t) => (t * brightness).clamp(0, 1);
        var result = brightnessFirst ? ShiftHue(Brightness(images), hue) : Brightness(ShiftHue(images, hue));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Mirror left-right.</summary>
    public static IImagePerturbation HorizontalFlip() => new Lambda("horizontal flip", (x, _) => x.flip(3));

    /// <summary>A trigger as a perturbation.</summary>
    public static IImagePerturbation FromTrigger(ITrigger trigger)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        return new Lambda(trigger.Name, (x, seed) => trigger.Apply(x, seed));
    }

    /// <summary>Rotates the hue of <c>[N, 3, H, W]</c> RGB images by <paramref name="shift"/> turns (torchvision's HSV round trip).</summary>
    internal static Tensor ShiftHue(Tensor rgb, double shift)
    {
        using var scope = NewDisposeScope();
        var r = rgb.select(1, 0); var g = rgb.select(1, 1); var b = rgb.select(1, 2);
        var maxc = rgb.amax(new long[] { 1 }); var minc = rgb.amin(new long[] { 1 });
        var delta = maxc - minc;
        var v = maxc;
        var s = delta / maxc.where(maxc > 0, ones_like(maxc));
        var safe = delta.where(delta > 0, ones_like(delta));
        var rc = (maxc - r) / safe; var gc = (maxc - g) / safe; var bc = (maxc - b) / safe;
        var hr = (bc - gc).where(maxc == r, zeros_like(r));
        var hg = (2.0 + rc - bc).where((maxc == g) & (maxc != r), zeros_like(r));
        var hb = (4.0 + gc - rc).where((maxc != g) & (maxc != r), zeros_like(r));
        var h = ((hr + hg + hb) / 6.0 + 1.0).remainder(1.0);
        h = h.where(delta > 0, zeros_like(h));
        h = (h + shift).remainder(1.0);
        // HSV -> RGB
        var i = (h * 6.0).floor();
        var f = h * 6.0 - i;
        var p = (v * (1.0 - s)).clamp(0, 1);
        var q = (v * (1.0 - s * f)).clamp(0, 1);
        var t = (v * (1.0 - s * (1.0 - f))).clamp(0, 1);
        var sector = i.remainder(6).to_type(ScalarType.Int64);
        Tensor Pick(Tensor a0, Tensor a1, Tensor a2, Tensor a3, Tensor a4, Tensor a5) =>
            a0.where(sector == 0, a1.where(sector == 1, a2.where(sector == 2, a3.where(sector == 3, a4.where(sector == 4, a5)))));
        var rr = Pick(v, q, p, p, t, v);
        var gg = Pick(t, v, v, q, p, p);
        var bb = Pick(p, p, t, v, v, q);
        return stack(new[] { rr, gg, bb }, 1).MoveToOuterDisposeScope();
    }

    private sealed class Lambda(string name, Func<Tensor, long, Tensor> apply) : IImagePerturbation
    {
        public string Name => name;

        public Tensor Apply(Tensor images, long seed)
        {
            if (images.dim() != 4 || images.shape[1] != 3)
                throw new ArgumentException($"Expected images [N, 3, H, W], got [{string.Join(", ", images.shape)}].", nameof(images));
            using var scope = NewDisposeScope();
            return apply(images, seed).MoveToOuterDisposeScope();
        }
    }
}
