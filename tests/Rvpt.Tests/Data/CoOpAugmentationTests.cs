using Rvpt.Clip;
using Rvpt.Testing;
using TorchSharp;
using Xunit;

namespace Rvpt.Tests;

public sealed class CoOpAugmentationTests
{
    private const int Size = 16;
    private static readonly ClipImageProcessor Processor = new(new ClipImageProcessorOptions { ImageSize = Size });

    /// <summary>A left-right asymmetric [3, H, W] image: a horizontal ramp plus noise.</summary>
    private static torch.Tensor Asymmetric(int height, int width, int seed = 3)
    {
        using var ramp = torch.linspace(0, 1, width).expand(3, height, width);
        using var noise = torch.rand([3, height, width], generator: new torch.Generator((ulong)seed));
        return (ramp * 0.7 + noise * 0.3).contiguous();
    }

    [Fact]
    public void OutputIsNormalisedSquareOfImageSize()
    {
        using var image = Asymmetric(40, 30);
        var augmentation = new CoOpAugmentation(Processor);

        using var output = augmentation.Apply(image, new Random(1));

        Assert.Equal([3L, Size, Size], output.shape);
        Assert.Equal(torch.ScalarType.Float32, output.dtype);
        Assert.True(output.isfinite().all().item<bool>());
        // (0 - mean) / std >= -1.80 and (1 - mean) / std <= 2.15 for CLIP's statistics.
        Assert.InRange(output.min().item<float>(), -1.80f, 2.15f);
        Assert.InRange(output.max().item<float>(), -1.80f, 2.15f);
        Assert.True(output.std().item<float>() > 0.1f, "output should not be constant");
    }

    [Fact]
    public void SameSeedGivesIdenticalOutputOtherSeedDiffers()
    {
        using var image = Asymmetric(40, 30);
        var augmentation = new CoOpAugmentation(Processor);

        using var a = augmentation.Apply(image, new Random(42));
        using var b = augmentation.Apply(image, new Random(42));
        using var c = augmentation.Apply(image, new Random(43));

        TensorAssert.BitIdentical(a, b, "same seed");
        Assert.True(TensorAssert.MaxAbsDiff(a, c) > 1e-3, "another seed should give another crop or flip");
    }

    [Fact]
    public void FlipMirrorsTheSameCrop()
    {
        using var image = Asymmetric(40, 30);
        var never = new CoOpAugmentation(Processor, new CoOpAugmentationOptions { FlipProbability = 0 });
        var always = new CoOpAugmentation(Processor, new CoOpAugmentationOptions { FlipProbability = 1 });

        for (var seed = 0; seed < 5; seed++)
        {
            using var plain = never.ApplyPixels01(image, new Random(seed));
            using var flipped = always.ApplyPixels01(image, new Random(seed));
            using var mirrored = plain.flip(2);

            TensorAssert.BitIdentical(mirrored, flipped, $"seed {seed}");
            Assert.True(TensorAssert.MaxAbsDiff(plain, flipped) > 1e-3, "the crop of a ramp is not symmetric");
        }
    }

    [Fact]
    public void CropIsTheSampledBoxResizedBicubically()
    {
        using var image = Asymmetric(50, 37);
        var augmentation = new CoOpAugmentation(Processor, new CoOpAugmentationOptions { FlipProbability = 0 });

        var box = augmentation.SampleCrop(50, 37, new Random(9));
        using var output = augmentation.ApplyPixels01(image, new Random(9));

        using var crop = image[.., box.Top..(box.Top + box.Height), box.Left..(box.Left + box.Width)].unsqueeze(0);
        using var resized = torch.nn.functional.interpolate(crop, [Size, Size], mode: torch.InterpolationMode.Bicubic, align_corners: false, antialias: true);
        using var expected = resized.clamp(0, 1).squeeze(0);
        TensorAssert.BitIdentical(expected, output, "crop then resize");
    }

    [Fact]
    public void FullScaleSquareCropOfSquareImageIsAPlainResize()
    {
        using var image = Asymmetric(40, 40);
        var augmentation = new CoOpAugmentation(Processor, new CoOpAugmentationOptions { MinScale = 1, MaxScale = 1, MinRatio = 1, MaxRatio = 1, FlipProbability = 0 });

        Assert.Equal(new CropBox(0, 0, 40, 40), augmentation.SampleCrop(40, 40, new Random(5)));
        using var output = augmentation.ApplyPixels01(image, new Random(5));
        using var batch = image.unsqueeze(0);
        using var resized = torch.nn.functional.interpolate(batch, [Size, Size], mode: torch.InterpolationMode.Bicubic, align_corners: false, antialias: true);
        using var expected = resized.clamp(0, 1).squeeze(0);

        TensorAssert.BitIdentical(expected, output, "plain resize");
        using var eval = new ClipEvalTransform(Processor).ApplyPixels01(image);
        TensorAssert.BitIdentical(expected, eval, "eval transform of a square image");
    }

    [Fact]
    public void FallsBackToCentreCropClampedToTheRatioRange()
    {
        // Full area at ratio 1 never fits a 20 x 50 image, so all attempts fail: centre square of the short side.
        var augmentation = new CoOpAugmentation(Processor, new CoOpAugmentationOptions { MinScale = 1, MaxScale = 1, MinRatio = 1, MaxRatio = 1 });

        Assert.Equal(new CropBox(0, 15, 20, 20), augmentation.SampleCrop(20, 50, new Random(0)));
        Assert.Equal(new CropBox(15, 0, 20, 20), augmentation.SampleCrop(50, 20, new Random(0)));
    }

    [Fact]
    public void SampledCropsStayInsideWithinScaleAndRatio()
    {
        var augmentation = new CoOpAugmentation(Processor);
        var random = new Random(11);
        for (var i = 0; i < 500; i++)
        {
            var (height, width) = (random.Next(1, 300), random.Next(1, 300));
            var box = augmentation.SampleCrop(height, width, random);
            Assert.InRange(box.Top, 0, height - box.Height);
            Assert.InRange(box.Left, 0, width - box.Width);
            Assert.InRange(box.Height, 1, height);
            Assert.InRange(box.Width, 1, width);
        }
        for (var i = 0; i < 200; i++)
        {
            // Large images: rounding is negligible, so the documented ranges hold closely.
            var box = augmentation.SampleCrop(1000, 1000, random);
            Assert.InRange(box.Height * (double)box.Width / 1e6, 0.079, 1.0);
            Assert.InRange(box.Width / (double)box.Height, 0.749, 1.334);
        }
    }

    [Fact]
    public void EvalTransformResizesShortSideAndCentreCrops()
    {
        using var image = Asymmetric(32, 64);
        var eval = new ClipEvalTransform(Processor);

        using var output = eval.ApplyPixels01(image);
        // 32 x 64 -> 16 x 32, centre crop columns 8..24.
        using var batch = image.unsqueeze(0);
        using var resized = torch.nn.functional.interpolate(batch, [Size, 2 * Size], mode: torch.InterpolationMode.Bicubic, align_corners: false, antialias: true);
        using var expected = resized.clamp(0, 1).squeeze(0)[.., .., 8..24];

        TensorAssert.BitIdentical(expected.contiguous(), output.contiguous(), "resize + centre crop");
        using var normalised = eval.Apply(image);
        using var manual = Processor.Normalize(output);
        TensorAssert.BitIdentical(manual, normalised, "normalised");
    }

    [Fact]
    public void RejectsBadInputAndOptions()
    {
        var augmentation = new CoOpAugmentation(Processor);
        using var gray = torch.rand(1, 8, 8);
        Assert.Throws<ArgumentException>(() => augmentation.Apply(gray, new Random(0)));
        Assert.Throws<ArgumentException>(() => new CoOpAugmentation(Processor, new CoOpAugmentationOptions { MinScale = 0.5, MaxScale = 0.2 }));
        Assert.Throws<ArgumentException>(() => new CoOpAugmentation(Processor, new CoOpAugmentationOptions { FlipProbability = 1.5 }));
    }
}
