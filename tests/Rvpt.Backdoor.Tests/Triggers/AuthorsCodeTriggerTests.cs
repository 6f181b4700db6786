using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>
/// The triggers against golden values from the authors' code (Golden/make_golden.py restates CleanCLIP's
/// backdoor/utils.py and WaNet's warp in Python; its random draws are fed through the triggers' internal seams).
/// </summary>
public sealed class AuthorsCodeTriggerTests
{
    // PatchSize 56 at 224 is 4 px at 16 px, the golden patch.
    private static readonly BadNetsOptions CleanClipBadNetsAt16 = new() { PatchSize = 56 };

    [Fact]
    public void BadNets_ImageMeanNoisePatch_MatchesCleanClipCode_WithItsUint8Conversion()
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("badnets_random.safetensors");
        var trigger = new BadNetsTrigger(CleanClipBadNetsAt16);
        var positions = Positions(golden["positions"]);
        var composed = trigger.Compose(golden["images"], positions, golden["noise"]);
        // The authors' pipeline ends in ToPILImage (uint8): compare after the same round trip of the whole image.
        TensorAssert.Close(golden["expected_uint8"], TriggeredImage.ToUint8RoundTrip(composed), 1e-6, "BadNets, uint8 as ToPILImage stores it");
        Assert.True(composed.min().item<float>() >= 0 && composed.max().item<float>() <= 1, "the wrapped patch lies in [0, 1]");
    }

    [Fact]
    public void BadNets_ImageMeanNoisePatch_Clamped_MatchesTheClampedCode()
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("badnets_random.safetensors");
        var trigger = new BadNetsTrigger(CleanClipBadNetsAt16 with { Pattern = PatchPattern.ImageMeanNoise(PatchOverflow.Clamp) });
        var composed = trigger.Compose(golden["images"], Positions(golden["positions"]), golden["noise"]);
        TensorAssert.Close(golden["expected_clamped"], composed, 1e-6, "BadNets, clamped");
    }

    [Fact]
    public void BadNets_Default_IsCleanClipsRandomPatch_DrawnPerImage()
    {
        using var scope = NewDisposeScope();
        var trigger = new BadNetsTrigger();
        Assert.Equal(PatchPatternKind.ImageMeanNoise, trigger.Options.Pattern.Kind);
        Assert.Equal(PatchPositionKind.RandomAsCleanClip, trigger.Options.Position.Kind);
        Assert.Equal(16, trigger.Options.PatchSize);
        // Same image in every row, fixed position: the patches still differ (fresh noise per row) and repeat per seed.
        var image = TriggerTestImages.Noise(1, 64, 64).expand(3, 3, 64, 64).contiguous();
        var fixedAt = new BadNetsTrigger(new BadNetsOptions { Position = PatchPosition.At(0, 0) });
        var a = fixedAt.Apply(image, seed: 4);
        Assert.True(TensorAssert.MaxAbsDiff(a[0], a[1]) > 0.1, "rows draw different noise");
        TensorAssert.BitIdentical(a, fixedAt.Apply(image, seed: 4), "same seed, same patches");
        Assert.True(TensorAssert.MaxAbsDiff(a, fixedAt.Apply(image, seed: 5)) > 0.1, "another seed, other patches");
    }

    [Fact]
    public void BadNets_CleanClipPositions_CoverExactlyZeroTo224Minus16Minus1()
    {
        var trigger = new BadNetsTrigger();
        var ys = new List<long>();
        var xs = new List<long>();
        for (long row = 0; row < 4000; row++)
        {
            var (y, x, _) = trigger.PatchRegion(224, 224, 3, row);
            ys.Add(y);
            xs.Add(x);
        }
        // random.randint(0, 223 - 16) is inclusive of both ends.
        Assert.Equal((0L, 207L), (ys.Min(), ys.Max()));
        Assert.Equal((0L, 207L), (xs.Min(), xs.Max()));
    }

    [Fact]
    public void Blended_FreshNoise_MatchesCleanClipCode()
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("blended.safetensors");
        var trigger = new BlendedTrigger();
        TensorAssert.Close(golden["expected"], trigger.Blend(golden["images"], golden["noise"]), 1e-7, "Blended");
    }

    [Fact]
    public void Blended_Default_DrawsFreshNoisePerImage_FixedOptionDoesNot()
    {
        using var scope = NewDisposeScope();
        var image = TriggerTestImages.Noise(1, 32, 32).expand(2, 3, 32, 32).contiguous();
        var fresh = new BlendedTrigger().Apply(image, seed: 1);
        Assert.True(TensorAssert.MaxAbsDiff(fresh[0], fresh[1]) > 0.1, "per-image noise differs between rows");
        TensorAssert.BitIdentical(fresh, new BlendedTrigger().Apply(image, seed: 1), "same seed");
        var fixedPattern = new BlendedTrigger(new BlendedOptions { Noise = BlendedNoise.Fixed }).Apply(image, seed: 1);
        TensorAssert.Close(fixedPattern[0], fixedPattern[1], 0, "one fixed pattern");
    }

    [Theory]
    [InlineData(16)]
    [InlineData(4)]
    public void WaNet_Grid_MatchesTheAuthorsCode(int k)
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("wanet.safetensors");
        var noise = WaNetTrigger.NoiseFromControl(golden[$"control_k{k}"], 16, 16);
        TensorAssert.Close(golden[$"noise_grid_k{k}"], noise, 1e-5, $"noise grid, k = {k}");
        TensorAssert.Close(golden[$"grid_k{k}"], WaNetTrigger.SamplingGrid(golden[$"noise_grid_k{k}"], 1.0, 1.0), 1e-6, $"sampling grid, k = {k}");
        var warped = new WaNetTrigger(new WaNetOptions { NoiseGrid = golden[$"noise_grid_k{k}"] }).Apply(golden["images"]);
        TensorAssert.Close(golden[$"expected_k{k}"], warped, 1e-5, $"warped images, k = {k}");
    }

    [Fact]
    public void WaNet_Defaults_AreThePapersKEqualsHeightAndStrength1()
    {
        using var scope = NewDisposeScope();
        var options = new WaNetOptions();
        Assert.Null(options.GridSize);
        Assert.Equal(1.0, options.Strength);
        Assert.Equal(1.0, options.GridRescale);
        // k = H: the control grid is the noise grid itself (bicubic with align_corners at the same size is the identity).
        var control = TriggerRandom.CpuUniform(0, 1, 2, 12, 12).mul(2).sub(1).to_type(ScalarType.Float64);
        var noise = control.div(control.abs().mean()).permute(0, 2, 3, 1);
        TensorAssert.Close(WaNetTrigger.SamplingGrid(noise, 1.0, 1.0), new WaNetTrigger().Grid(12, 12, CPU, ScalarType.Float64), 1e-12, "default grid");
    }

    [Fact]
    public void WaNet_LoadsTheAttackersSavedNoiseGrid_FromTorchSave()
    {
        using var scope = NewDisposeScope();
        using var golden = GoldenFile.Open("wanet.safetensors");
        var options = WaNetOptions.FromNoiseGridFile(GoldenFile.PathOf("noise_grid_k=16_s=1_inputheight=16_gridrescale=1.pt"));
        // Saved by torch.save from a permuted (non-contiguous) tensor: the strides must be honoured.
        TensorAssert.Close(golden["noise_grid_k16"], options.NoiseGrid!, 0, "noise grid read from the .pt file");
        var warped = new WaNetTrigger(options).Apply(golden["images"]);
        TensorAssert.Close(golden["expected_k16"], warped, 1e-5, "warp with the loaded grid");
        var wrongSize = Assert.Throws<ArgumentException>(() => new WaNetTrigger(options).Apply(TriggerTestImages.Noise(1, 8, 8)));
        Assert.Contains("16 x 16", wrongSize.Message);
    }

    [Fact]
    public void WaNet_Options_StillSerialise_ForSettingsKeys()
    {
        // The synthetic lab keys its cached models by the JSON of WaNetOptions; a Tensor property must not break that.
        var json = System.Text.Json.JsonSerializer.Serialize(new WaNetOptions { NoiseGrid = zeros(1, 4, 4, 2) });
        Assert.Contains("\"Strength\":1", json);
        Assert.DoesNotContain("NoiseGrid", json);
    }

    [Fact]
    public void WaNet_NoiseGridFile_RefusesOtherPickles_NamingTheFile()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "evil.pt");
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("evil/data.pkl").Open())
            s.Write([0x80, 0x02, .. "cos\nsystem\n(X"u8, 0x02, 0x00, 0x00, 0x00, .. "lstR."u8]); // os.system("ls")
        var e = Assert.Throws<InvalidDataException>(() => WaNetOptions.FromNoiseGridFile(path));
        Assert.Contains(path, e.Message);
        Assert.Throws<FileNotFoundException>(() => WaNetOptions.FromNoiseGridFile(Path.Combine(dir.Path, "missing.pt")));
    }

    [Fact]
    public void Placement_ResizeThenTrigger_SeesTheWholeImage_CentreCropDoesNot()
    {
        using var scope = NewDisposeScope();
        var transform = new ClipEvalTransform(new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = 16 }));
        // A 16 x 32 image whose left quarter is white: CLIP's centre crop keeps columns 8..23 and loses it.
        var raw = zeros(3, 16, 32);
        raw.narrow(2, 0, 8).fill_(1);
        var whole = TriggeredImage.BeforeTrigger(raw, TriggerPlacement.ResizeThenTrigger, transform);
        var crop = TriggeredImage.BeforeTrigger(raw, TriggerPlacement.AfterCentreCrop, transform);
        Assert.Equal(new long[] { 3, 16, 16 }, whole.shape);
        Assert.True(whole.narrow(2, 0, 3).min().item<float>() > 0.9, "the resized image keeps the white quarter");
        Assert.True(crop.max().item<float>() < 0.1, "the centre crop has none of it");
    }

    [Fact]
    public void Placement_ResizeThenTrigger_EndsWithToPilImagesUint8RoundTrip()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new[] { 0f, 0.5f, 0.99999f, 1f, 1.5f, -0.5f }).view(1, 1, 1, 6);
        // mul(255).byte(): truncation, and wrap-around outside [0, 1] (127.5 -> 127, 382.5 -> 126, -127.5 -> 129).
        var expected = tensor(new[] { 0f, 127f, 254f, 255f, 126f, 129f }).div(255).view(1, 1, 1, 6);
        TensorAssert.Close(expected, TriggeredImage.AfterTrigger(x, TriggerPlacement.ResizeThenTrigger), 1e-7, "uint8 round trip");
        TensorAssert.BitIdentical(x, TriggeredImage.AfterTrigger(x, TriggerPlacement.AfterCentreCrop), "no round trip after the crop");
    }

    [Fact]
    public void TriggersFromFiles_APatchImageWithSizeAndPosition_AndABlendImageWithARatio()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        // A 4 x 4 PNG: red left half, blue right half (exact in 8 bits).
        var pixels = zeros(3, 4, 4);
        pixels[0].narrow(1, 0, 2).fill_(1);
        pixels[2].narrow(1, 2, 2).fill_(1);
        var path = Path.Combine(dir.Path, "patch.png");
        using (var image = ClipImageProcessor.Pixels01ToImage(pixels))
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, path);

        var badNets = new BadNetsTrigger(new BadNetsOptions { Pattern = PatchPattern.FromFile(path), PatchSize = 56, Position = PatchPosition.At(28, 56) });
        var images = TriggerTestImages.Noise(1, 16, 16);
        var patched = badNets.Apply(images);
        // 56 at 224 is 4 px at 16 px; (28, 56) at 224 is (2, 4).
        TensorAssert.Close(pixels, patched[0].narrow(1, 2, 4).narrow(2, 4, 4), 1e-6, "the patch image at its place");
        Assert.True(TriggerTestImages.SameMask(TriggerTestImages.Square(16, 16, 2, 4, 4), TriggerTestImages.ChangedMask(images, patched)[0]));

        var blended = new BlendedTrigger(BlendedOptions.FromFile(path, 0.3)).Apply(TriggerTestImages.Noise(1, 4, 4));
        TensorAssert.Close(TriggerTestImages.Noise(1, 4, 4).mul(0.7).add(pixels.mul(0.3)), blended, 1e-6, "blend with ratio 0.3");
        Assert.Throws<FileNotFoundException>(() => PatchPattern.FromFile(Path.Combine(dir.Path, "missing.png")));
    }

    private static (long Y, long X)[] Positions(Tensor positions)
    {
        var flat = positions.data<long>().ToArray();
        return Enumerable.Range(0, flat.Length / 2).Select(i => (flat[2 * i], flat[2 * i + 1])).ToArray();
    }
}
