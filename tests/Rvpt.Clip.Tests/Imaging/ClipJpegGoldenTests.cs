using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using Xunit.Abstractions;

namespace Rvpt.Clip.Tests;

/// <summary>
/// JPEG decoding and CLIP preprocessing against Pillow 9.4 (libjpeg-turbo 2.1.5) and torchvision 0.14 on photos in
/// every chroma subsampling (4:4:4, 4:2:2, 4:2:0), quality 75 and 95, baseline and progressive, at an even and an odd
/// size, plus restart markers, 4:4:0, 4:1:1 and grayscale (golden files in Golden/jpeg).
/// </summary>
public sealed class ClipJpegGoldenTests(ITestOutputHelper output)
{
    /// <summary>One uint8 step after normalisation is at most 1/255/0.2613 = 0.01501; this allows one level.</summary>
    private const double OneLevelTolerance = 0.016;

    private readonly ClipImageProcessor processor = new(new ClipImageProcessorOptions { ImageSize = JpegGolden.PreprocessSize });

    public static TheoryData<string> Stems => [.. JpegGolden.Stems];

    /// <summary>The decoder reproduces libjpeg-turbo's islow IDCT, fancy upsampling and colour tables: Pillow's pixels exactly.</summary>
    [Theory]
    [MemberData(nameof(Stems))]
    public void Decoding_matches_pillow_exactly(string stem)
    {
        var (height, width, expected) = JpegGolden.Load().Decoded(stem);
        using var image = processor.Decode(JpegGolden.PathOf(stem));

        Assert.Equal((width, height), (image.Width, image.Height));
        var comparison = PixelComparison.Of(TestImages.Bytes(image), expected);
        output.WriteLine($"{stem} decoding vs Pillow: {comparison}");
        Assert.Equal(1.0, comparison.FractionEqual);
    }

    /// <summary>The whole CLIP pipeline from the file agrees with torchvision on Pillow's decode (issue 13: at least 99% within one level).</summary>
    [Theory]
    [MemberData(nameof(Stems))]
    public void Preprocessing_matches_torchvision(string stem)
    {
        var expected = JpegGolden.Load().Preprocessed(stem);
        using var tensor = processor.Load(JpegGolden.PathOf(stem));

        var comparison = PixelComparison.Of(tensor.data<float>().ToArray(), expected, OneLevelTolerance);
        output.WriteLine($"{stem} preprocessed vs torchvision: {comparison}");
        Assert.True(comparison.FractionWithinTolerance >= 0.99, comparison.ToString());
    }
}
