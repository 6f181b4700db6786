using Rvpt.Clip;
using Rvpt.Testing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// Bad files and inconsistent labels reaching the data layer: each fails naming the file, class or image and what
/// was expected; odd but valid colour modes load as three channels.
/// </summary>
public sealed class DataBadInputTests : IDisposable
{
    private readonly TempDirectory dir = new();

    /// <summary>Deletes the files.</summary>
    public void Dispose() => dir.Dispose();

    private static ClipImageProcessor Processor(long maxPixels = ClipImageProcessorOptions.DefaultMaxPixels) =>
        new(new ClipImageProcessorOptions { ImageSize = 8, MaxPixels = maxPixels });

    /// <summary>
    /// Opening lists files without decoding them, so a bad file is found when it is loaded: zero-byte, text with an
    /// image extension, truncated, or over the pixel limit — each an <see cref="InvalidDataException"/> naming it.
    /// </summary>
    [Fact]
    public void BadFilesInAClassFolderFailWhenLoadedNamingTheFile()
    {
        var good = DataTestImages.WritePng(Path.Combine(dir.Path, "cat", "a-good.png"), 30, 20);
        File.WriteAllBytes(Path.Combine(dir.Path, "cat", "b-empty.jpg"), []);
        File.WriteAllText(Path.Combine(dir.Path, "cat", "c-text.png"), "<html>not found</html>");
        var small = DataTestImages.WritePng(Path.Combine(dir.Path, "small.png"), 20, 20);
        var bytes = File.ReadAllBytes(small);
        File.WriteAllBytes(Path.Combine(dir.Path, "cat", "d-cut.png"), bytes[..(bytes.Length / 2)]);

        var data = ImageFolderDataset.Open(dir.Path, Processor(maxPixels: 500));
        Assert.Equal(4, data.Count);
        string[] expected = ["more than the limit of 500", "empty (0 bytes)", "not an image", "truncated"];
        for (var i = 0; i < data.Count; i++)
        {
            var e = Assert.Throws<InvalidDataException>(() => data.LoadPixels01(i).Dispose());
            Assert.Contains(data.GetPath(i), e.Message);
            Assert.Contains(expected[i], e.Message);
        }
    }

    /// <summary>A file removed after the folder was opened is a <see cref="FileNotFoundException"/> carrying its path.</summary>
    [Fact]
    public void AFileDeletedAfterOpeningIsNotFound()
    {
        DataTestImages.WriteFolder(dir.Path, ("cat", 2));
        var data = ImageFolderDataset.Open(dir.Path, Processor());
        File.Delete(data.GetPath(1));
        Assert.Equal(data.GetPath(1), Assert.Throws<FileNotFoundException>(() => data.LoadPixels01(1)).FileName);
    }

    /// <summary>Grayscale, grayscale + alpha, RGBA, palette and 16-bit PNGs load as [3, H, W] in [0, 1].</summary>
    [Fact]
    public void OtherColourModesLoadAsThreeChannels()
    {
        var folder = Path.Combine(dir.Path, "mixed");
        Directory.CreateDirectory(folder);
        using (var gray = new Image<L8>(9, 5, new L8(128)))
            gray.Save(Path.Combine(folder, "gray.png"), new PngEncoder { ColorType = PngColorType.Grayscale });
        using (var grayAlpha = new Image<La16>(9, 5, new La16(200, 10)))
            grayAlpha.Save(Path.Combine(folder, "gray-alpha.png"), new PngEncoder { ColorType = PngColorType.GrayscaleWithAlpha });
        using (var rgba = new Image<Rgba32>(9, 5, new Rgba32(255, 0, 0, 0)))
            rgba.Save(Path.Combine(folder, "rgba.png"), new PngEncoder { ColorType = PngColorType.RgbWithAlpha });
        using (var palette = new Image<Rgb24>(9, 5, new Rgb24(0, 0, 255)))
            palette.Save(Path.Combine(folder, "palette.png"), new PngEncoder { ColorType = PngColorType.Palette });
        using (var deep = new Image<Rgb48>(9, 5, new Rgb48(65535, 32896, 0)))
            deep.Save(Path.Combine(folder, "rgb16.png"), new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 });

        var data = ImageFolderDataset.Open(dir.Path, Processor());
        var firstPixel = new Dictionary<string, float[]>();
        for (var i = 0; i < data.Count; i++)
        {
            using var image = data.LoadPixels01(i);
            Assert.Equal([3L, 5, 9], image.shape);
            firstPixel[Path.GetFileNameWithoutExtension(data.GetPath(i))] = image[TensorIndex.Colon, 0, 0].data<float>().ToArray();
        }
        Assert.Equal([128 / 255f, 128 / 255f, 128 / 255f], firstPixel["gray"]);
        Assert.Equal([200 / 255f, 200 / 255f, 200 / 255f], firstPixel["gray-alpha"]);
        Assert.Equal([1f, 0f, 0f], firstPixel["rgba"]); // alpha 0: the colour is kept, not composited
        Assert.Equal([0f, 0f, 1f], firstPixel["palette"]);
        Assert.Equal([1f, 128 / 255f, 0f], firstPixel["rgb16"]);
    }

    /// <summary>A corrupt file in a training epoch reaches the consumer naming it, after the batches before it.</summary>
    [Fact]
    public void ACorruptFileStopsTheEpochNamingIt()
    {
        DataTestImages.WriteFolder(dir.Path, ("ant", 3), ("bee", 3));
        var bad = Path.Combine(dir.Path, "bee", "img01.png");
        File.WriteAllBytes(bad, [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 0, 0]);
        var data = ImageFolderDataset.Open(dir.Path, Processor());
        var loader = new BatchLoader(data, Processor(), new BatchLoaderOptions { BatchSize = 2, Shuffle = false, Augment = false });

        var batches = 0;
        var e = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var batch in loader.Epoch(0))
            {
                batch.Dispose();
                batches++;
            }
        });
        Assert.Contains(bad, e.Message);
        Assert.Equal(2, batches); // images 0-3 are fine; the batch holding image 4 fails
    }

    /// <summary>Fewer images than shots: an error naming the class, or every image with <see cref="FewShotShortfall.UseAll"/>.</summary>
    [Fact]
    public void FewerImagesThanShotsNamesTheClassOrUsesAll()
    {
        DataTestImages.WriteFolder(dir.Path, ("ant", 4), ("bee", 2));
        var data = ImageFolderDataset.Open(dir.Path, Processor());
        var e = Assert.Throws<InvalidDataException>(() => FewShotSampler.Sample(data, 3, seed: 1));
        Assert.Contains("Class 1 'bee' has 2 images but 3 shots", e.Message);
        Assert.Equal([3, 2], FewShotSampler.Sample(data, 3, seed: 1, FewShotShortfall.UseAll).CountPerClass());
    }

    /// <summary>A source whose label lies outside its class list fails naming the image, in the sampler and the loader.</summary>
    [Fact]
    public void ALabelOutsideTheClassListNamesTheImage()
    {
        var source = new BadLabelSource();
        var sample = Assert.Throws<InvalidDataException>(() => FewShotSampler.Sample(source, 1, seed: 0));
        Assert.Contains("item 2", sample.Message);
        Assert.Contains("label 5", sample.Message);

        var loader = new BatchLoader(source, Processor(), new BatchLoaderOptions { BatchSize = 4, Shuffle = false, Augment = false });
        var load = Assert.Throws<InvalidDataException>(() => loader.Epoch(0).First().Dispose());
        Assert.Contains("item 2", load.Message);
        Assert.Contains("[0, 2)", load.Message);
    }

    /// <summary>Two classes, three images, the third labelled 5.</summary>
    private sealed class BadLabelSource : ILabeledImageSource
    {
        public int Count => 3;

        public IReadOnlyList<string> ClassNames { get; } = ["a", "b"];

        public int GetLabel(int index) => index == 2 ? 5 : index;

        public string Describe(int index) => $"item {index}";

        public Tensor LoadPixels01(int index) => full(new long[] { 3, 8, 8 }, 0.5f);
    }
}
