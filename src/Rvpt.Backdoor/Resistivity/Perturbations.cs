using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// The paper's perturbations for resistivity: Gaussian noise (std 0.001), Gaussian blur (kernel 3, sigma drawn from
/// [0.1, 2] per image as torchvision's <c>GaussianBlur</c> does), colour jitter (brightness 0.5, hue 0.3, as
/// torchvision's <c>ColorJitter</c>), horizontal flip, and any trigger.
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

    /// <summary>Gaussian blur with a square kernel (reflect padding), sigma uniform in [<paramref name="minSigma"/>, <paramref name="maxSigma"/>] per image.</summary>
    public static IImagePerturbation GaussianBlur(int kernel = 3, double minSigma = 0.1, double maxSigma = 2.0)
    {
        if (kernel < 1 || kernel % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "The kernel size must be odd and positive.");
        return new Lambda($"Gaussian blur (k={kernel})", (x, seed) =>
        {
            var random = new Random(unchecked((int)seed));
            var rows = new List<Tensor>();
            for (int i = 0; i < x.shape[0]; i++)
            {
                double sigma = minSigma + (maxSigma - minSigma) * random.NextDouble();
                var k1 = Enumerable.Range(0, kernel).Select(j => Math.Exp(-Math.Pow(j - kernel / 2, 2) / (2 * sigma * sigma))).ToArray();
                var sum = k1.Sum();
                var k = tensor(k1.Select(v => (float)(v / sum)).ToArray()).to(x.dtype, x.device);
                var k2 = k.outer(k).expand(3, 1, kernel, kernel);
                var padded = nn.functional.pad(x.narrow(0, i, 1), new long[] { kernel / 2, kernel / 2, kernel / 2, kernel / 2 }, PaddingModes.Reflect);
                rows.Add(nn.functional.conv2d(padded, k2, groups: 3));
            }
            return cat(rows, 0);
        });
    }

    /// <summary>
    /// Colour jitter: brightness factor uniform in [1 - b, 1 + b], then hue shift uniform in [-h, h] (fraction of the
    /// hue circle), per image; clamped to [0, 1].
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
                double b = 1 - brightness + 2 * brightness * random.NextDouble();
                double h = -hue + 2 * hue * random.NextDouble();
                rows.Add(ShiftHue((x.narrow(0, i, 1) * b).clamp(0, 1), h));
            }
            return cat(rows, 0);
        });
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
