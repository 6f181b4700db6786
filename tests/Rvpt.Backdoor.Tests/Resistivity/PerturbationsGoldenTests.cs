using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>The resistivity perturbations against torchvision's functions (Golden/make_golden.py).</summary>
public sealed class PerturbationsGoldenTests
{
    [Theory]
    [InlineData(5.0, "blur_sigma5.0000")]
    [InlineData(2.2360679774997896, "blur_sigma2.2361")]
    public void Blur_MatchesTorchvisionGaussianBlur(double sigma, string key)
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("perturbations.safetensors");
        var images = golden["images"];
        TensorAssert.Close(golden[key], Perturbations.GaussianBlur(3, sigma).Apply(images, 0), 1e-6, $"blur sigma {sigma}");
    }

    [Fact]
    public void Blur_Default_IsAFixedSigma_TheSameForEverySeed()
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("perturbations.safetensors");
        var blur = Perturbations.GaussianBlur();
        TensorAssert.Close(golden["blur_sigma5.0000"], blur.Apply(golden["images"], 1), 1e-6, "default blur is sigma 5");
        TensorAssert.Close(blur.Apply(golden["images"], 1), blur.Apply(golden["images"], 99), 0, "no per-seed sigma");
    }

    [Theory]
    [InlineData(true, "jitter_brightness_then_hue")]
    [InlineData(false, "jitter_hue_then_brightness")]
    public void Jitter_MatchesTorchvision_InEitherOrder(bool brightnessFirst, string key)
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("perturbations.safetensors");
        var actual = Perturbations.Jitter(golden["images"], 1.3, -0.21, brightnessFirst);
        TensorAssert.Close(golden[key], actual, 1e-5, key);
    }

    [Fact]
    public void Jitter_UsesBothOrders_AcrossImages()
    {
        using var scope = NewDisposeScope();
        // A bright saturated image: brightness then hue differs from hue then brightness once values clip at 1.
        var image = tensor(new[] { 0.9f, 0.2f, 0.1f }).view(1, 3, 1, 1).expand(64, 3, 4, 4).contiguous();
        var output = Perturbations.ColorJitter(0.5, 0.3).Apply(image, 3);
        int agreeFirst = 0, agreeSecond = 0;
        var random = new Random(3);
        for (int i = 0; i < 64; i++)
        {
            // The draws as ColorJitter makes them: order, then brightness, then hue.
            bool first = random.Next(2) == 0;
            double b = 0.5 + random.NextDouble();
            double h = -0.3 + 0.6 * random.NextDouble();
            var row = output.narrow(0, i, 1);
            if (TensorAssert.MaxAbsDiff(Perturbations.Jitter(image.narrow(0, i, 1), b, h, true), row) < 1e-6 && first) agreeFirst++;
            if (TensorAssert.MaxAbsDiff(Perturbations.Jitter(image.narrow(0, i, 1), b, h, false), row) < 1e-6 && !first) agreeSecond++;
        }
        Assert.Equal(64, agreeFirst + agreeSecond);
        Assert.InRange(agreeFirst, 16, 48);
    }
}
