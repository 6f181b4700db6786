using Xunit;
using Xunit.Abstractions;

namespace Rvpt.Clip.Tests;

/// <summary>
/// <see cref="ClipImageProcessor"/> against OpenAI CLIP's <c>preprocess</c> (Pillow 9.4 + torchvision 0.14) on the
/// tiny CLIP fixtures: decoding, geometry, the uint8 resize/crop stage and the final tensor.
/// </summary>
public sealed class ClipPreprocessGoldenTests(ITestOutputHelper output)
{
    private const int Size = PreprocessGolden.Size;

    /// <summary>One uint8 step after normalisation is at most 1/255/0.2613 = 0.01501; this allows one level.</summary>
    private const double OneLevelTolerance = 0.016;

    private readonly ClipImageProcessor processor = new();

    /// <summary>PNG decoding is lossless, so ImageSharp must give Pillow's pixels exactly.</summary>
    [SkippableTheory]
    [InlineData(0)]
    [InlineData(1)]
    public void Png_decoding_matches_pillow_exactly(int index)
    {
        var golden = PreprocessGolden.Load();
        using var image = processor.Decode(PreprocessGolden.ImagePath(index));
        var expected = golden.Decoded[index];

        Assert.Equal((expected.Width, expected.Height), (image.Width, image.Height));
        var comparison = PixelComparison.Of(TestImages.Bytes(image), expected.Pixels);
        output.WriteLine($"{PreprocessGolden.ImageFiles[index]} decoding: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
    }

    /// <summary>JPEG decoding reproduces libjpeg-turbo (Pillow's decoder) exactly: its integer IDCT and colour tables.</summary>
    [SkippableFact]
    public void Jpeg_decoding_matches_libjpeg_turbo_exactly()
    {
        var golden = PreprocessGolden.Load();
        using var image = processor.Decode(PreprocessGolden.ImagePath(PreprocessGolden.JpegIndex));
        var expected = golden.Decoded[PreprocessGolden.JpegIndex];

        Assert.Equal((expected.Width, expected.Height), (image.Width, image.Height));
        var comparison = PixelComparison.Of(TestImages.Bytes(image), expected.Pixels);
        output.WriteLine($"{PreprocessGolden.ImageFiles[PreprocessGolden.JpegIndex]} decoding vs libjpeg-turbo: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
    }

    /// <summary>Resize target and crop offsets equal torchvision's, including the 56.5 -> 56 half-to-even case.</summary>
    [SkippableFact]
    public void Resize_size_and_crop_offsets_match_torchvision()
    {
        var golden = PreprocessGolden.Load();
        for (var i = 0; i < PreprocessGolden.ImageFiles.Length; i++)
        {
            var source = golden.Decoded[i];
            var geometry = processor.GetGeometry(source.Width, source.Height);
            Assert.Equal((golden.ResizedHw[2 * i], golden.ResizedHw[2 * i + 1]), (geometry.ResizedHeight, geometry.ResizedWidth));
            Assert.Equal((golden.CropTopLeft[2 * i], golden.CropTopLeft[2 * i + 1]), (geometry.CropTop, geometry.CropLeft));
        }
        // img1: (337 - 224) / 2 = 56.5 rounds half to even.
        Assert.Equal(56, golden.CropTopLeft[2]);
    }

    /// <summary>The Pillow BICUBIC port reproduces Pillow's resized and cropped bytes exactly (downscale and upscale).</summary>
    [SkippableTheory]
    [InlineData(0)]
    [InlineData(1)]
    public void Png_resize_and_crop_match_pillow_bicubic_exactly(int index)
    {
        var golden = PreprocessGolden.Load();
        using var image = processor.Decode(PreprocessGolden.ImagePath(index));
        using var cropped = processor.ResizeAndCrop(image);

        Assert.Equal((Size, Size), (cropped.Width, cropped.Height));
        var comparison = PixelComparison.Of(TestImages.Bytes(cropped), golden.ResizedCroppedOf(index));
        output.WriteLine($"{PreprocessGolden.ImageFiles[index]} resize + crop: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
    }

    /// <summary>From identical decoded pixels the 500 -> 224 downscale is exact too.</summary>
    [SkippableFact]
    public void Jpeg_resize_of_pillow_decoded_pixels_matches_pillow_exactly()
    {
        // Feeding Pillow's own decoded pixels isolates the resampler from JPEG decoder differences.
        var golden = PreprocessGolden.Load();
        var decoded = golden.Decoded[PreprocessGolden.JpegIndex];
        using var image = TestImages.FromBytes(decoded.Pixels, decoded.Width, decoded.Height);
        using var cropped = processor.ResizeAndCrop(image);

        var comparison = PixelComparison.Of(TestImages.Bytes(cropped), golden.ResizedCroppedOf(PreprocessGolden.JpegIndex));
        output.WriteLine($"JPEG resize from Pillow's decoded pixels: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
    }

    /// <summary>From the file the resized bytes are Pillow's too.</summary>
    [SkippableFact]
    public void Jpeg_resize_and_crop_from_file_matches_pillow_exactly()
    {
        var golden = PreprocessGolden.Load();
        using var image = processor.Decode(PreprocessGolden.ImagePath(PreprocessGolden.JpegIndex));
        using var cropped = processor.ResizeAndCrop(image);

        var comparison = PixelComparison.Of(TestImages.Bytes(cropped), golden.ResizedCroppedOf(PreprocessGolden.JpegIndex));
        output.WriteLine($"JPEG resize + crop from the file: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
    }

    /// <summary>ToTensor + Normalize in float32 reproduce CLIP's tensor bit for bit from the same bytes.</summary>
    [SkippableFact]
    public void Tensor_from_golden_uint8_matches_pixel_values_bit_exactly()
    {
        var golden = PreprocessGolden.Load();
        for (var i = 0; i < PreprocessGolden.ImageFiles.Length; i++)
        {
            using var image = TestImages.FromBytes(golden.ResizedCroppedOf(i).ToArray(), Size, Size);
            using var tensor = processor.ToTensor(image);

            Assert.Equal([3L, Size, Size], tensor.shape);
            var comparison = PixelComparison.Of(tensor.data<float>().ToArray(), golden.PixelValuesOf(i), 1e-6);
            output.WriteLine($"{PreprocessGolden.ImageFiles[i]} ToTensor + Normalize from golden uint8: {comparison}");
            Assert.Equal(1.0, comparison.FractionEqual);
        }
    }

    /// <summary>The whole pipeline from the file gives CLIP's tensor bit for bit, for PNG and JPEG.</summary>
    [SkippableTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Load_matches_pixel_values_exactly(int index)
    {
        var golden = PreprocessGolden.Load();
        using var tensor = processor.Load(PreprocessGolden.ImagePath(index));

        Assert.Equal([3L, Size, Size], tensor.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, tensor.dtype);
        var comparison = PixelComparison.Of(tensor.data<float>().ToArray(), golden.PixelValuesOf(index), OneLevelTolerance);
        output.WriteLine($"{PreprocessGolden.ImageFiles[index]} end to end: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
    }

    /// <summary>The batch path gives CLIP's tensors in list order and the same values as single loads.</summary>
    [SkippableFact]
    public void LoadBatch_matches_pixel_values_and_single_loads()
    {
        var golden = PreprocessGolden.Load();
        var paths = Enumerable.Range(0, PreprocessGolden.ImageFiles.Length).Select(PreprocessGolden.ImagePath).ToArray();
        using var batch = processor.LoadBatch(paths);

        Assert.Equal([3L, 3, Size, Size], batch.shape);
        var values = batch.data<float>().ToArray();
        var comparison = PixelComparison.Of(values, golden.PixelValues, OneLevelTolerance);
        output.WriteLine($"batch of 3 end to end: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
        for (var i = 0; i < paths.Length; i++)
        {
            using var single = processor.Load(paths[i]);
            Assert.Equal(single.data<float>().ToArray(), values.AsSpan(i * 3 * Size * Size, 3 * Size * Size).ToArray());
        }
    }
}
