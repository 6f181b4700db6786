using System.Text.RegularExpressions;
using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

public sealed class SyntheticWorldTests
{
    private static readonly SyntheticWorld World = new();

    [Fact]
    public void SameSeedAndIndexGiveBitIdenticalImageAndCaption()
    {
        var other = new SyntheticWorld();
        for (int i = 0; i < 20; i++)
        {
            using var a = World.Render(7, i);
            using var b = other.Render(7, i);
            TensorAssert.BitIdentical(a, b, $"image {i}");
            Assert.Equal(World.Describe(7, i), other.Describe(7, i));
        }
    }

    [Fact]
    public void ShapeScaleDrawsTheSameSamplesSmaller()
    {
        // Plain backgrounds, no noise, no distractor, centred shapes: every pixel away from the background is the shape's.
        var plain = new SyntheticWorldOptions { Textures = ["plain"], NoiseStd = 0, SecondObjectProbability = 0, Positions = ["center"] };
        var half = plain.WithShapeScale(0.5);
        Assert.Equal((0.105, 0.155, 0.06), (half.SmallHalfExtent, half.LargeHalfExtent, half.SecondObjectHalfExtent));
        Assert.Equal(plain with { SmallHalfExtent = 0.105, LargeHalfExtent = 0.155, SecondObjectHalfExtent = 0.06 }, half);
        var full = new SyntheticWorld(plain);
        var smaller = new SyntheticWorld(half);
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(full.Describe(7, i), smaller.Describe(7, i)); // the same shape, colours and caption
            using var scope = NewDisposeScope();
            var a = full.Render(7, i);
            var b = smaller.Render(7, i);
            var background = a[.., 0, 0].reshape(3, 1, 1); // a corner: a centred shape never reaches it
            long Drawn(Tensor image) => (image - background).abs().amax(0).gt(0.2f).sum().item<long>();
            // Half the extent, about a quarter of the area.
            Assert.InRange(Drawn(b), 1, Drawn(a) / 2);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.WithShapeScale(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.WithShapeScale(1.6));
        Assert.Throws<ArgumentOutOfRangeException>(() => plain.WithShapeScale(double.NaN));
    }

    [Fact]
    public void DifferentIndexOrSeedGivesDifferentImage()
    {
        using var a = World.Render(7, 0);
        using var b = World.Render(7, 1);
        using var c = World.Render(8, 0);
        using var d = World.Render(7, World.ClassNames.Count); // same class, other attributes/noise
        Assert.False(a.equal(b).all().item<bool>());
        Assert.False(a.equal(c).all().item<bool>());
        Assert.False(a.equal(d).all().item<bool>());
    }

    [Fact]
    public void RenderBatchMatchesRender()
    {
        using var batch = World.RenderBatch(3, 5, 4);
        for (int i = 0; i < 4; i++)
        {
            using var single = World.Render(3, 5 + i);
            using var row = batch[i];
            TensorAssert.BitIdentical(single, row, $"row {i}");
        }
    }

    [Fact]
    public void HasAtLeastTenDistinctClasses()
    {
        Assert.True(World.ClassNames.Count >= 10);
        Assert.Equal(World.ClassNames.Count, World.ClassNames.Distinct().Count());
    }

    [Fact]
    public void CaptionsNameTheClassAndUseOnlyVocabularyWords()
    {
        var vocabulary = new HashSet<string>(World.Vocabulary);
        Assert.All(World.Vocabulary, w => Assert.Matches("^[a-z]+$", w));
        int classOnly = 0;
        for (int i = 0; i < 2000; i++)
        {
            var s = World.Describe(11, i);
            Assert.EndsWith(".", s.Caption);
            var words = s.Caption[..^1].Split(' ');
            Assert.All(words, w => Assert.Contains(w, vocabulary));
            Assert.Contains(s.ClassName, words);
            Assert.Equal(World.ClassNames[s.ClassIndex], s.ClassName);
            Assert.Equal(i % World.ClassNames.Count, s.ClassIndex);
            if (words.Length <= 2) classOnly++;
        }
        Assert.InRange(classOnly, 1, 400); // most captions name at least one attribute
    }

    [Fact]
    public void EveryAttributeValueAppearsIn2000Samples()
    {
        var samples = Enumerable.Range(0, 2000).Select(i => World.Describe(5, i)).ToArray();
        var options = World.Options;
        Assert.Equal(World.ClassNames.OrderBy(x => x), samples.Select(s => s.ClassName).Distinct().OrderBy(x => x));
        Assert.Equal(options.Colours.Select(c => c.Name).OrderBy(x => x), samples.Select(s => s.Colour).Distinct().OrderBy(x => x));
        Assert.Equal(options.Colours.Select(c => c.Name).OrderBy(x => x), samples.Select(s => s.BackgroundColour).Distinct().OrderBy(x => x));
        Assert.Equal(options.Sizes.OrderBy(x => x), samples.Select(s => s.Size).Distinct().OrderBy(x => x));
        Assert.Equal(options.Positions.OrderBy(x => x), samples.Select(s => s.Position).Distinct().OrderBy(x => x));
        Assert.Equal(options.Textures.OrderBy(x => x), samples.Select(s => s.Texture).Distinct().OrderBy(x => x));
        Assert.All(samples, s => Assert.NotEqual(s.Colour, s.BackgroundColour));
        var seconds = samples.Where(s => s.SecondObject is not null).ToArray();
        Assert.InRange(seconds.Length, 400, 800); // probability 0.3
        Assert.All(seconds, s => Assert.NotEqual(s.ClassIndex, s.SecondObject!.ClassIndex));
        Assert.All(seconds, s => Assert.NotEqual(s.Position, s.SecondObject!.Position));
        Assert.Contains(samples, s => s.Caption.Contains(" next to a", StringComparison.Ordinal) || s.Caption.Contains(" next to an", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(96)]
    public void ImagesAreFloat32InZeroOneWithTheRightShape(int size)
    {
        var world = new SyntheticWorld(new SyntheticWorldOptions { ImageSize = size });
        using var image = world.Render(1, 3);
        Assert.Equal(new long[] { 3, size, size }, image.shape);
        Assert.Equal(ScalarType.Float32, image.dtype);
        Assert.Equal(TorchSharp.DeviceType.CPU, image.device_type);
        Assert.True(image.min().item<float>() >= 0f);
        Assert.True(image.max().item<float>() <= 1f);
    }

    [Fact]
    public void LargeShapesCoverASensibleAreaOfTheirColour()
    {
        int s = World.ImageSize;
        double half = World.Options.LargeHalfExtent * s, box = 4 * half * half;
        var seen = new HashSet<int>();
        var colours = World.Options.Colours.ToDictionary(c => c.Name);
        for (int i = 0; i < 3000 && seen.Count < World.ClassNames.Count; i++)
        {
            var d = World.Describe(2, i);
            if (d.Size != "large" || d.Texture != "plain" || d.SecondObject is not null || !seen.Add(d.ClassIndex)) continue;
            using var image = World.Render(2, i);
            var c = colours[d.Colour];
            using var target = tensor(new[] { c.R, c.G, c.B }).reshape(3, 1, 1);
            using var diff = (image - target).abs().amax(0);
            long count = (diff <= 0.15f).sum().item<long>();
            Assert.InRange(count, (long)(0.2 * box), (long)(0.95 * box));
        }
        Assert.Equal(World.ClassNames.Count, seen.Count);
    }

    [Fact]
    public void EverySupportedShapeHasItsOwnSilhouette()
    {
        // One large, centred, noise-free shape per class on a plain background: its mask (pixels far from the
        // background colour) fills a sensible part of its box and differs from every other shape's mask.
        var world = new SyntheticWorld(new SyntheticWorldOptions
        {
            ClassNames = SyntheticWorldOptions.SupportedShapes, Sizes = ["large"], Positions = ["center"], Textures = ["plain"],
            PositionJitter = 0, SecondObjectProbability = 0, NoiseStd = 0,
        });
        Assert.Equal(24, world.ClassNames.Count);
        Assert.Equal(SyntheticWorldOptions.SupportedShapes.Take(12), new SyntheticWorldOptions().ClassNames);
        int s = world.ImageSize;
        double half = world.Options.LargeHalfExtent * s, box = 4 * half * half;
        var colours = world.Options.Colours.ToDictionary(c => c.Name);
        var masks = new List<bool[]>();
        for (int c = 0; c < world.ClassNames.Count; c++)
        {
            var d = world.Describe(5, c);
            using var image = world.Render(5, c);
            var bg = colours[d.BackgroundColour];
            using var background = tensor(new[] { bg.R, bg.G, bg.B }).reshape(3, 1, 1);
            using var far = (image - background).abs().amax(0) > 0.25f;
            var mask = far.flatten().data<bool>().ToArray();
            Assert.InRange(mask.Count(m => m), (long)(0.15 * box), (long)(0.95 * box));
            masks.Add(mask);
        }
        for (int a = 0; a < masks.Count; a++)
            for (int b = a + 1; b < masks.Count; b++)
                Assert.True(masks[a].Zip(masks[b]).Count(p => p.First != p.Second) >= 8,
                    $"{world.ClassNames[a]} and {world.ClassNames[b]} have nearly the same silhouette");
    }

    [Fact]
    public void LabeledDatasetCyclesThroughTheClasses()
    {
        int k = World.ClassNames.Count;
        using var data = World.ToLabeledDataset(9, 3 * k);
        Assert.Equal(3 * k, data.Count);
        Assert.Equal(World.ClassNames, data.ClassNames);
        for (int i = 0; i < data.Count; i++) Assert.Equal(i % k, data.GetLabel(i));
        using var first = data.LoadPixels01(5);
        using var direct = World.Render(9, 5);
        TensorAssert.BitIdentical(direct, first, "dataset image 5");
    }

    [Fact]
    public void CaptionDatasetMatchesDescribe()
    {
        using var data = World.ToCaptionDataset(4, 50);
        Assert.Equal(50, data.Count);
        for (int i = 0; i < 50; i++) Assert.Equal(World.Describe(4, i).Caption, data.GetCaption(i));
        using var image = data.LoadPixels01(7);
        using var direct = World.Render(4, 7);
        TensorAssert.BitIdentical(direct, image, "caption dataset image 7");
    }

    [Fact]
    public void GeneratedTokenizerEncodesEveryCaptionWordAsOneToken()
    {
        using var dir = new TempDirectory();
        var tokenizer = ClipVocabularyGenerator.WriteTo(dir.Path, World.Vocabulary);
        for (int i = 0; i < 1000; i++)
        {
            var caption = World.Describe(13, i).Caption;
            int words = caption[..^1].Split(' ').Length;
            Assert.True(words + 1 + 2 == tokenizer.Encode(caption).Count, caption + " -> " + string.Join(" | ", tokenizer.Tokenize(caption)));
        }
    }

    [Fact]
    public void SplitSeedsAreDistinct()
    {
        var seeds = new[] { 0L, 1L, 2L }.SelectMany(b => Enum.GetValues<SyntheticSplit>().Select(s => SyntheticWorld.SplitSeed(b, s))).ToArray();
        Assert.Equal(seeds.Length, seeds.Distinct().Count());
        var train = World.Describe(SyntheticWorld.SplitSeed(0, SyntheticSplit.Train), 0);
        var test = World.Describe(SyntheticWorld.SplitSeed(0, SyntheticSplit.Test), 0);
        Assert.Equal(train.ClassIndex, test.ClassIndex);
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new SyntheticWorld(new SyntheticWorldOptions { ImageSize = 16 }));
        Assert.Throws<ArgumentException>(() => new SyntheticWorld(new SyntheticWorldOptions { ClassNames = ["circle", "blob"] }));
        Assert.Throws<ArgumentException>(() => new SyntheticWorld(new SyntheticWorldOptions { CaptionTemplates = ["a {colour} thing."] }));
        Assert.Throws<ArgumentException>(() => new SyntheticWorld(new SyntheticWorldOptions { CaptionTemplates = ["a {shape} {oops}."] }));
        var e = Assert.Throws<ArgumentException>(() => new SyntheticWorld(new SyntheticWorldOptions { NoiseStd = 0.1, NoiseStdMax = 0.05 }));
        Assert.Contains("NoiseStdMax", e.Message);
        Assert.Throws<ArgumentException>(() => new SyntheticWorld(new SyntheticWorldOptions { NoiseStdMax = 0.6 }));
    }

    [Fact]
    public void ANoiseRangeDrawsEachImagesLevelAndKeepsEverythingElse()
    {
        // Against the noise-free world, the difference is the noise alone; mid-grey content keeps clamping out of it.
        var flat = new SyntheticWorldOptions { NoiseStd = 0, Colours = [new("grey", 0.5f, 0.5f, 0.5f), new("light", 0.6f, 0.6f, 0.6f), new("dark", 0.4f, 0.4f, 0.4f)] };
        var plain = new SyntheticWorld(flat);
        var ranged = new SyntheticWorld(flat with { NoiseStdMax = 0.2 });
        var levels = new List<double>();
        for (int i = 0; i < 16; i++)
        {
            Assert.Equal(plain.Describe(4, i), ranged.Describe(4, i));
            using var a = plain.Render(4, i);
            using var b = ranged.Render(4, i);
            levels.Add((b - a).std().item<float>());
        }
        Assert.All(levels, l => Assert.InRange(l, 0, 0.21));
        Assert.True(levels.Min() < 0.07 && levels.Max() > 0.13, $"levels {string.Join(", ", levels.Select(l => l.ToString("F3")))} should spread over [0, 0.2]");
        Assert.DoesNotContain("NoiseStdMax", System.Text.Json.JsonSerializer.Serialize(new SyntheticWorldOptions()));
    }

    [Fact]
    public void FiveHundredTwelveSamplesRender()
    {
        using var batch = World.RenderBatch(21, 0, 512);
        Assert.Equal(new long[] { 512, 3, World.ImageSize, World.ImageSize }, batch.shape);
        Assert.False(batch.isnan().any().item<bool>());
    }
}
