using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>
/// The tensor side of <see cref="ClipImageProcessor"/>: batches, the [0, 1] variants, Normalize/Denormalize,
/// tensor-to-image conversion and options.
/// </summary>
public sealed class ClipImageProcessorTests : IDisposable
{
    private const int Size = 32;

    private readonly Rvpt.Testing.TempDirectory folder = new();
    private readonly ClipImageProcessor processor = new(new ClipImageProcessorOptions { ImageSize = Size, MaxDegreeOfParallelism = 4 });

    /// <summary>Deletes the generated files.</summary>
    public void Dispose() => folder.Dispose();

    /// <summary>Differently sized and patterned images, so a mix-up in order shows.</summary>
    private string[] WriteImages(int count)
    {
        var paths = new string[count];
        for (var i = 0; i < count; i++)
        {
            using var image = TestImages.Pattern(30 + 7 * i, 50 - 3 * i, seed: i);
            paths[i] = folder.File($"img{i}.png");
            image.Save(paths[i], new PngEncoder());
        }
        return paths;
    }

    private static float[] Values(torch.Tensor tensor) => tensor.data<float>().ToArray();

    /// <summary>Row i of a batch is exactly the single load of paths[i].</summary>
    [Fact]
    public void LoadBatch_equals_single_loads_in_order()
    {
        var paths = WriteImages(9);
        using var batch = processor.LoadBatch(paths);
        using var pixels01Batch = processor.LoadPixels01Batch(paths);

        Assert.Equal([9L, 3, Size, Size], batch.shape);
        Assert.Equal([9L, 3, Size, Size], pixels01Batch.shape);
        for (var i = 0; i < paths.Length; i++)
        {
            using var single = processor.Load(paths[i]);
            using var row = batch[i];
            Assert.Equal(Values(single), Values(row));
            using var pixels01Single = processor.LoadPixels01(paths[i]);
            using var pixels01Row = pixels01Batch[i];
            Assert.Equal(Values(pixels01Single), Values(pixels01Row));
        }
        // Rows differ, so equality above is not vacuous.
        using var first = batch[0];
        using var second = batch[1];
        Assert.NotEqual(Values(first), Values(second));
    }

    /// <summary>An empty list gives an empty [0, 3, S, S] tensor.</summary>
    [Fact]
    public void Empty_batch_gives_empty_tensor()
    {
        using var batch = processor.LoadBatch([]);
        Assert.Equal([0L, 3, Size, Size], batch.shape);
    }

    /// <summary>A cancelled token stops the batch with OperationCanceledException.</summary>
    [Fact]
    public void Cancelled_batch_throws()
    {
        var paths = WriteImages(3);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => processor.LoadBatch(paths, cts.Token));
    }

    /// <summary>Null or empty entries are rejected with their index.</summary>
    [Fact]
    public void Batch_rejects_null_entries()
    {
        var ex = Assert.Throws<ArgumentException>(() => processor.LoadBatch(["a.png", null!]));
        Assert.Contains("paths[1]", ex.Message);
    }

    /// <summary>Normalize on the [0, 1] variant is bit-identical to the normalised pipeline, for [3,H,W] and [N,3,H,W].</summary>
    [Fact]
    public void Normalize_of_unit_tensor_equals_process()
    {
        using var image = TestImages.Pattern(45, 33);
        using var pixels01 = processor.ProcessPixels01(image);
        using var normalized = processor.Process(image);
        using var renormalized = processor.Normalize(pixels01);
        Assert.Equal(Values(normalized), Values(renormalized));

        using var pixels01Batch = pixels01.unsqueeze(0).expand(2, 3, Size, Size);
        using var batchNormalized = processor.Normalize(pixels01Batch);
        Assert.Equal([2L, 3, Size, Size], batchNormalized.shape);
        using var secondRow = batchNormalized[1];
        Assert.Equal(Values(normalized), Values(secondRow));

        using var back = processor.Denormalize(normalized);
        Assert.True(back.allclose(pixels01, rtol: 0, atol: 1e-6));
    }

    /// <summary>[0, 1] pixel values are v / 255 and normalised ones (v / 255 - mean) / std, per channel.</summary>
    [Fact]
    public void ToTensor_uses_clip_mean_and_std()
    {
        using var image = new Image<Rgb24>(5, 4, new Rgb24(10, 128, 250));
        using var pixels01 = processor.ToPixels01(image);
        using var normalized = processor.ToTensor(image);

        Assert.Equal([3L, 4, 5], normalized.shape); // no resizing
        var u = Values(pixels01);
        var n = Values(normalized);
        Assert.Equal(10 / 255f, u[0]);
        Assert.Equal(128 / 255f, u[20]);
        Assert.Equal(250 / 255f, u[40]);
        Assert.Equal((10 / 255f - 0.48145466f) / 0.26862954f, n[0]);
        Assert.Equal((128 / 255f - 0.4578275f) / 0.26130258f, n[20]);
        Assert.Equal((250 / 255f - 0.40821073f) / 0.27577711f, n[40]);
    }

    /// <summary>ToImage inverts Process exactly, and Pixels01ToImage inverts ProcessPixels01.</summary>
    [Fact]
    public void ToImage_inverts_process_exactly()
    {
        using var image = TestImages.Pattern(70, 41);
        using var cropped = processor.ResizeAndCrop(image);
        using var normalized = processor.Process(image);
        using var pixels01 = processor.ProcessPixels01(image);

        using var fromNormalized = processor.ToImage(normalized);
        using var fromPixels01 = ClipImageProcessor.Pixels01ToImage(pixels01);
        Assert.Equal(TestImages.Bytes(cropped), TestImages.Bytes(fromNormalized));
        Assert.Equal(TestImages.Bytes(cropped), TestImages.Bytes(fromPixels01));
    }

    /// <summary>Out-of-range values are clamped when converting back to pixels.</summary>
    [Fact]
    public void Pixels01ToImage_clamps()
    {
        using var t = torch.tensor(new float[] { -0.5f, 1.5f, 0.5f }, [3, 1, 1]);
        using var image = ClipImageProcessor.Pixels01ToImage(t);
        Assert.Equal(new Rgb24(0, 255, 128), image[0, 0]);
    }

    /// <summary>Tensors without an RGB channel axis or of integer type are rejected.</summary>
    [Fact]
    public void Tensor_methods_validate_shape_and_dtype()
    {
        using var twoChannels = torch.zeros(2, 4, 4);
        using var integers = torch.zeros([3, 4, 4], torch.ScalarType.Int32);
        using var flat = torch.zeros(3, 16);
        Assert.Throws<ArgumentException>(() => processor.Normalize(twoChannels));
        Assert.Throws<ArgumentException>(() => processor.Normalize(integers));
        Assert.Throws<ArgumentException>(() => processor.Denormalize(flat));
        Assert.Throws<ArgumentException>(() => processor.ToImage(flat));
    }

    /// <summary>DType and ImageSize options shape the output.</summary>
    [Fact]
    public void Options_set_dtype_and_size()
    {
        var paths = WriteImages(2);
        var doubles = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = 16, DType = torch.ScalarType.Float64 });
        using var single = doubles.Load(paths[0]);
        using var batch = doubles.LoadBatch(paths);
        Assert.Equal(torch.ScalarType.Float64, single.dtype);
        Assert.Equal([3L, 16, 16], single.shape);
        Assert.Equal([2L, 3, 16, 16], batch.shape);
        Assert.Equal(DeviceType.CPU, batch.device_type);
    }

    /// <summary>Invalid options are refused when the processor is created.</summary>
    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = 0 }));
        Assert.Throws<ArgumentException>(() => new ClipImageProcessor(new ClipImageProcessorOptions { Mean = [0.5f, 0.5f] }));
        Assert.Throws<ArgumentException>(() => new ClipImageProcessor(new ClipImageProcessorOptions { Std = [0.2f, 0f, 0.2f] }));
        Assert.Throws<ArgumentException>(() => new ClipImageProcessor(new ClipImageProcessorOptions { MaxPixels = 0 }));
        Assert.Throws<ArgumentException>(() => new ClipImageProcessor(new ClipImageProcessorOptions { MaxDegreeOfParallelism = 0 }));
        Assert.Throws<ArgumentException>(() => new ClipImageProcessor(new ClipImageProcessorOptions { DType = torch.ScalarType.Int64 }));
    }

    /// <summary>The defaults are CLIP's.</summary>
    [Fact]
    public void Defaults_are_clip()
    {
        var options = new ClipImageProcessor().Options;
        Assert.Equal(224, options.ImageSize);
        Assert.Equal([0.48145466f, 0.4578275f, 0.40821073f], options.Mean);
        Assert.Equal([0.26862954f, 0.26130258f, 0.27577711f], options.Std);
        Assert.Equal(torch.ScalarType.Float32, options.DType);
        Assert.Null(options.Device);
    }
}
