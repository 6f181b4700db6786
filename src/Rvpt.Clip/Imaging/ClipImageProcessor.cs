using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;

namespace Rvpt.Clip;

/// <summary>
/// OpenAI CLIP's image preprocessing (<c>clip.load()</c>'s <c>preprocess</c>): torchvision
/// <c>Resize(S, interpolation=BICUBIC)</c> -> <c>CenterCrop(S)</c> -> <c>convert('RGB')</c> -> <c>ToTensor()</c> ->
/// <c>Normalize(mean, std)</c>, as torchvision 0.14 runs it on a PIL image.
/// </summary>
/// <remarks>
/// <para>
/// Fidelity: the resize reproduces Pillow's BICUBIC resampling bit for bit, the crop uses torchvision's
/// round-half-to-even offsets and the float32 arithmetic matches <c>ToTensor</c>/<c>Normalize</c>, so a lossless
/// RGB or grayscale image (or an opaque RGBA one) gives exactly CLIP's tensor. So does a JPEG: baseline and
/// progressive Huffman-coded 8-bit JPEGs (grayscale, YCbCr or RGB, any integral chroma subsampling) are decoded to
/// exactly the pixels Pillow gets from libjpeg-turbo (its integer "islow" IDCT, "fancy" chroma upsampling and integer
/// YCbCr tables, reimplemented from libjpeg-turbo 2.1.5's source); the rare JPEGs outside that set (CMYK/YCCK,
/// 12-bit, arithmetic-coded, lossless) go to ImageSharp's decoder and may differ from Pillow by a few levels.
/// </para>
/// <para>
/// Decoding (ImageSharp: PNG, JPEG, BMP, GIF, WebP, TGA, TIFF, PBM) keeps the first frame and converts to 8-bit RGB
/// like PIL's <c>convert('RGB')</c>: alpha is dropped without compositing, grayscale is replicated, palettes are
/// looked up. Like PIL's <c>Image.open</c>, EXIF orientation is NOT applied and ICC profiles are ignored.
/// </para>
/// <para>
/// Known differences, because CLIP resizes in the file's own PIL mode and converts to RGB afterwards: Pillow resizes
/// RGBA/LA images with premultiplied alpha, so after a resize fully transparent areas are black and their hidden
/// colours do not blend into neighbouring pixels, whereas here the stored colours are kept and blended; Pillow resizes palette ("P") and 1-bit images,
/// e.g. GIFs and palette PNGs, with NEAREST instead of BICUBIC (large differences); Pillow clips 16-bit grayscale
/// PNG values to 255 instead of scaling them, and keeps the high byte of 16-bit RGB where ImageSharp rounds (at most
/// one level). Decoding is stricter than PIL in one case: a PNG that only lacks its closing IEND chunk is refused as
/// truncated.
/// </para>
/// <para>
/// Every returned <see cref="Tensor"/> is new and owned by the caller, who disposes it (or creates it inside a
/// <c>torch.NewDisposeScope()</c>); so is every returned <see cref="Image{TPixel}"/>. Tensors are created on
/// <see cref="ClipImageProcessorOptions.Device"/> with <see cref="ClipImageProcessorOptions.DType"/>. An instance is
/// immutable and safe to use from several threads.
/// </para>
/// </remarks>
public sealed class ClipImageProcessor
{
    private const int Channels = 3;

    private readonly ClipImageDecoder decoder;
    private readonly ClipPixelConverter normalizing;
    private readonly float[] mean;
    private readonly float[] std;

    /// <summary>Creates a processor.</summary>
    /// <param name="options">Settings; <see langword="null"/> means CLIP's defaults (224 pixels, CPU, float32).</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public ClipImageProcessor(ClipImageProcessorOptions? options = null)
    {
        Options = options ?? new ClipImageProcessorOptions();
        Options.Validate();
        mean = [.. Options.Mean];
        std = [.. Options.Std];
        decoder = new ClipImageDecoder(Options.MaxPixels);
        normalizing = ClipPixelConverter.Normalizing(mean, std);
    }

    /// <summary>The settings in use.</summary>
    public ClipImageProcessorOptions Options { get; }

    /// <summary>Side S of the square output (<see cref="ClipImageProcessorOptions.ImageSize"/>).</summary>
    public int ImageSize => Options.ImageSize;

    private int PlaneLength => ImageSize * ImageSize;

    // ---- Decoding ------------------------------------------------------------------------------------------

    /// <summary>Decodes an image file to 8-bit RGB (first frame, alpha dropped, no EXIF rotation).</summary>
    /// <param name="path">The image file.</param>
    /// <returns>The decoded image, owned by the caller.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, corrupt, not an image, in an unsupported format, or larger than <see cref="ClipImageProcessorOptions.MaxPixels"/>; the message names the file.</exception>
    public Image<Rgb24> Decode(string path) => decoder.Decode(path);

    /// <summary>Decodes the image starting at the current position of <paramref name="stream"/> to 8-bit RGB.</summary>
    /// <param name="stream">A readable stream; one that cannot seek is buffered in memory first. It is not disposed.</param>
    /// <param name="sourceName">Name used in error messages (e.g. the file or archive entry name).</param>
    /// <returns>The decoded image, owned by the caller.</returns>
    /// <exception cref="InvalidDataException">The data is empty, truncated, corrupt, not an image, or too large; the message names <paramref name="sourceName"/>.</exception>
    public Image<Rgb24> Decode(Stream stream, string sourceName) => decoder.Decode(stream, sourceName);

    // ---- Geometry and the uint8 stage --------------------------------------------------------------------

    /// <summary>The resize target and crop offsets CLIP uses for an image of the given size.</summary>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <returns>The geometry for <see cref="ImageSize"/>.</returns>
    public ClipImageGeometry GetGeometry(int width, int height) => ClipImageGeometry.Compute(width, height, ImageSize);

    /// <summary>
    /// Resize (Pillow BICUBIC, short side to S) and centre crop to S x S: CLIP's pixels just before
    /// <c>ToTensor()</c>.
    /// </summary>
    /// <param name="image">Any RGB image; it is not modified.</param>
    /// <returns>A new S x S image, owned by the caller.</returns>
    public Image<Rgb24> ResizeAndCrop(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var pixels = new byte[PlaneLength * Channels];
        ResizeAndCrop(image, GetGeometry(image.Width, image.Height), pixels);
        return Image.LoadPixelData<Rgb24>(pixels, ImageSize, ImageSize);
    }

    private void ResizeAndCrop(Image<Rgb24> image, ClipImageGeometry geometry, Span<byte> destination) =>
        PillowBicubicResampler.ResizeRegion(image, geometry.ResizedWidth, geometry.ResizedHeight,
            new Rectangle(geometry.CropLeft, geometry.CropTop, ImageSize, ImageSize), destination);

    // ---- Image -> tensor ---------------------------------------------------------------------------------

    /// <summary>The full pipeline on a decoded image: resize, crop, scale to [0, 1] and normalise.</summary>
    /// <param name="image">Any RGB image; it is not modified.</param>
    /// <returns>A normalised [3, S, S] tensor, owned by the caller.</returns>
    public Tensor Process(Image<Rgb24> image) => ProcessCore(image, normalizing);

    /// <summary>
    /// The pipeline without <c>Normalize</c>: resize, crop and scale to [0, 1]. Pixel-space edits (e.g. a trigger)
    /// belong here, followed by <see cref="Normalize"/>.
    /// </summary>
    /// <param name="image">Any RGB image; it is not modified.</param>
    /// <returns>A [3, S, S] tensor in [0, 1], owned by the caller.</returns>
    public Tensor ProcessPixels01(Image<Rgb24> image) => ProcessCore(image, ClipPixelConverter.Pixels01);

    /// <summary>
    /// <c>ToTensor()</c> + <c>Normalize</c> on the pixels as they are, without resizing or cropping (apply
    /// <see cref="ResizeAndCrop(Image{Rgb24})"/> first, or use <see cref="Process"/>).
    /// </summary>
    /// <param name="image">An RGB image of any size.</param>
    /// <returns>A normalised [3, H, W] tensor, owned by the caller.</returns>
    public Tensor ToTensor(Image<Rgb24> image) => ToTensorCore(image, normalizing);

    /// <summary><c>ToTensor()</c> on the pixels as they are: [0, 1], no resizing, no normalisation.</summary>
    /// <param name="image">An RGB image of any size.</param>
    /// <returns>A [3, H, W] tensor in [0, 1], owned by the caller.</returns>
    public Tensor ToPixels01(Image<Rgb24> image) => ToTensorCore(image, ClipPixelConverter.Pixels01);

    private Tensor ProcessCore(Image<Rgb24> image, ClipPixelConverter converter)
    {
        ArgumentNullException.ThrowIfNull(image);
        var pixels = ArrayPool<byte>.Shared.Rent(PlaneLength * Channels);
        try
        {
            var hwc = pixels.AsSpan(0, PlaneLength * Channels);
            ResizeAndCrop(image, GetGeometry(image.Width, image.Height), hwc);
            return PlanesTensor(hwc, converter);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    /// <summary>
    /// Converts S x S packed RGB pixels into a new [3, S, S] tensor of the options' dtype and device, writing the
    /// float32 planes straight into tensor memory (no managed float array).
    /// </summary>
    private Tensor PlanesTensor(ReadOnlySpan<byte> hwc, ClipPixelConverter converter)
    {
        var planes = torch.empty([Channels, ImageSize, ImageSize], torch.ScalarType.Float32, torch.CPU);
        try
        {
            converter.ToPlanes(hwc, ImageSize, ImageSize, MemoryMarshal.Cast<byte, float>(planes.bytes));
            return WithOptions(planes);
        }
        catch
        {
            planes.Dispose();
            throw;
        }
    }

    /// <summary>A float32 CPU tensor converted to the options' dtype and device (the same tensor when they match).</summary>
    private Tensor WithOptions(Tensor float32Cpu)
    {
        if (Options.DType == torch.ScalarType.Float32 && (Options.Device is null || Options.Device.type == DeviceType.CPU))
            return float32Cpu;
        using (float32Cpu)
            return float32Cpu.to(Options.DType, Options.Device ?? torch.CPU);
    }

    private Tensor ToTensorCore(Image<Rgb24> image, ClipPixelConverter converter)
    {
        ArgumentNullException.ThrowIfNull(image);
        // Written straight into the memory of a CPU float32 tensor: no managed copy of the pixels (a 500 x 375 image
        // made a 2.25 MB array on the large-object heap per call; the batch loader calls this for every image).
        var planes = torch.empty([Channels, image.Height, image.Width], torch.ScalarType.Float32, torch.CPU);
        try
        {
            converter.ToPlanes(image, MemoryMarshal.Cast<byte, float>(planes.bytes));
            return WithOptions(planes);
        }
        catch
        {
            planes.Dispose();
            throw;
        }
    }

    // ---- Files -> tensors --------------------------------------------------------------------------------

    /// <summary>Loads an image file through the full pipeline.</summary>
    /// <param name="path">The image file.</param>
    /// <returns>A normalised [3, S, S] tensor, owned by the caller.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file cannot be decoded or is too large; the message names it.</exception>
    public Tensor Load(string path) => LoadCore(path, normalizing);

    /// <summary>Loads an image file resized, cropped and scaled to [0, 1], without normalisation.</summary>
    /// <param name="path">The image file.</param>
    /// <returns>A [3, S, S] tensor in [0, 1], owned by the caller.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file cannot be decoded or is too large; the message names it.</exception>
    public Tensor LoadPixels01(string path) => LoadCore(path, ClipPixelConverter.Pixels01);

    /// <summary>
    /// Loads image files through the full pipeline, decoding and resizing up to
    /// <see cref="ClipImageProcessorOptions.MaxDegreeOfParallelism"/> of them at once, into one tensor.
    /// </summary>
    /// <param name="paths">The image files; row i of the result is <c>paths[i]</c>.</param>
    /// <param name="cancellationToken">Stops the loading between images.</param>
    /// <returns>A normalised [N, 3, S, S] tensor, owned by the caller.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist (the first such in list order among those tried).</exception>
    /// <exception cref="InvalidDataException">A file cannot be decoded; the message names it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Tensor LoadBatch(IReadOnlyList<string> paths, CancellationToken cancellationToken = default) =>
        LoadBatchCore(paths, normalizing, cancellationToken);

    /// <summary>Like <see cref="LoadBatch"/> but without normalisation: values in [0, 1].</summary>
    /// <param name="paths">The image files; row i of the result is <c>paths[i]</c>.</param>
    /// <param name="cancellationToken">Stops the loading between images.</param>
    /// <returns>A [N, 3, S, S] tensor in [0, 1], owned by the caller.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file cannot be decoded; the message names it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Tensor LoadPixels01Batch(IReadOnlyList<string> paths, CancellationToken cancellationToken = default) =>
        LoadBatchCore(paths, ClipPixelConverter.Pixels01, cancellationToken);

    private Tensor LoadCore(string path, ClipPixelConverter converter)
    {
        var pixels = ArrayPool<byte>.Shared.Rent(PlaneLength * Channels);
        try
        {
            var hwc = pixels.AsSpan(0, PlaneLength * Channels);
            DecodeResizeAndCrop(path, hwc);
            return PlanesTensor(hwc, converter);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }
    }

    private Tensor LoadBatchCore(IReadOnlyList<string> paths, ClipPixelConverter converter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        for (var i = 0; i < paths.Count; i++)
        {
            if (string.IsNullOrEmpty(paths[i]))
                throw new ArgumentException($"paths[{i}] is null or empty.", nameof(paths));
        }
        cancellationToken.ThrowIfCancellationRequested();

        var size = ImageSize;
        if (paths.Count == 0)
            return torch.empty([0, Channels, size, size], Options.DType, Options.Device);
        var perImage = PlaneLength * Channels;

        // One batch tensor, each image writing its own row straight into tensor memory from a pooled pixel buffer per
        // worker: no managed arrays that grow with the batch (a float[] of the whole batch before: 19 MB for 32 images).
        var batch = torch.empty([paths.Count, Channels, size, size], torch.ScalarType.Float32, torch.CPU);
        try
        {
            var failures = new Exception?[paths.Count];
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
            Parallel.For(0, paths.Count, parallel,
                () => ArrayPool<byte>.Shared.Rent(perImage),
                (i, state, pixels) =>
                {
                    try
                    {
                        var hwc = pixels.AsSpan(0, perImage);
                        DecodeResizeAndCrop(paths[i], hwc);
                        using var row = batch[i];
                        converter.ToPlanes(hwc, size, size, MemoryMarshal.Cast<byte, float>(row.bytes));
                    }
                    catch (Exception ex)
                    {
                        // Collected by index so the reported failure does not depend on thread timing.
                        failures[i] = ex;
                        state.Stop();
                    }
                    return pixels;
                },
                pixels => ArrayPool<byte>.Shared.Return(pixels));

            var failure = Array.Find(failures, f => f is not null);
            if (failure is not null)
                ExceptionDispatchInfo.Throw(failure);
            return WithOptions(batch);
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private void DecodeResizeAndCrop(string path, Span<byte> destination)
    {
        using var image = decoder.Decode(path);
        ClipImageGeometry geometry;
        try
        {
            geometry = GetGeometry(image.Width, image.Height);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new InvalidDataException($"Image file '{path}' cannot be preprocessed: {ex.Message}", ex);
        }
        ResizeAndCrop(image, geometry, destination);
    }

    // ---- Tensor space ------------------------------------------------------------------------------------

    /// <summary>
    /// <c>Normalize(mean, std)</c>: <c>(x - mean) / std</c> per channel, on the tensor's device and in its dtype
    /// (mean and std are the float32 option values). Differentiable, so it can sit after a trainable pixel-space edit.
    /// </summary>
    /// <param name="pixels01">A [3, H, W] or [N, 3, H, W] floating-point tensor, typically in [0, 1].</param>
    /// <returns>A new tensor of the same shape, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The tensor is not floating-point or has no RGB channel axis.</exception>
    public Tensor Normalize(Tensor pixels01)
    {
        CheckChannelAxis(pixels01, nameof(pixels01));
        using var meanTensor = ChannelTensor(mean, pixels01);
        using var stdTensor = ChannelTensor(std, pixels01);
        using var centered = pixels01.sub(meanTensor);
        return centered.div(stdTensor);
    }

    /// <summary>Inverse of <see cref="Normalize"/>: <c>x * std + mean</c>, back to [0, 1] pixel space.</summary>
    /// <param name="normalized">A [3, H, W] or [N, 3, H, W] floating-point tensor.</param>
    /// <returns>A new tensor of the same shape, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The tensor is not floating-point or has no RGB channel axis.</exception>
    public Tensor Denormalize(Tensor normalized)
    {
        CheckChannelAxis(normalized, nameof(normalized));
        using var meanTensor = ChannelTensor(mean, normalized);
        using var stdTensor = ChannelTensor(std, normalized);
        using var scaled = normalized.mul(stdTensor);
        return scaled.add(meanTensor);
    }

    /// <summary>
    /// Converts a normalised [3, H, W] tensor (any device and float dtype) back to an 8-bit RGB image: undoes
    /// <see cref="Normalize"/>, scales by 255, rounds and clamps. <c>ToImage(Process(x))</c> returns
    /// <c>ResizeAndCrop(x)</c> exactly.
    /// </summary>
    /// <param name="normalized">A [3, H, W] tensor as produced by <see cref="Process"/> or <see cref="Normalize"/>.</param>
    /// <returns>A new image, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The tensor is not a floating-point [3, H, W] tensor.</exception>
    public Image<Rgb24> ToImage(Tensor normalized) => TensorToImage(normalized, mean, std, nameof(normalized));

    /// <summary>Converts a [3, H, W] tensor in [0, 1] (any device and float dtype) to an 8-bit RGB image (rounded, clamped).</summary>
    /// <param name="pixels01">A [3, H, W] tensor in [0, 1].</param>
    /// <returns>A new image, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The tensor is not a floating-point [3, H, W] tensor.</exception>
    public static Image<Rgb24> Pixels01ToImage(Tensor pixels01) => TensorToImage(pixels01, null, null, nameof(pixels01));

    private static Image<Rgb24> TensorToImage(Tensor chw, float[]? mean, float[]? std, string name)
    {
        ArgumentNullException.ThrowIfNull(chw, name);
        if (chw.dim() != 3 || chw.shape[0] != Channels || !torch.is_floating_point(chw))
            throw new ArgumentException($"Expected a floating-point [3, H, W] tensor, got {chw.dtype} [{string.Join(", ", chw.shape)}].", name);
        var (height, width) = (checked((int)chw.shape[1]), checked((int)chw.shape[2]));
        // The arithmetic runs in C# float32 so the round trip from Process is exact whatever the tensor's device.
        using var cpu = chw.detach().to(torch.ScalarType.Float32, torch.CPU).contiguous();
        var values = cpu.data<float>().ToArray();
        return ClipPixelConverter.FromPlanes(values, height, width, mean, std);
    }

    private static Tensor ChannelTensor(float[] values, Tensor like) =>
        torch.tensor(values, [Channels, 1, 1], like.dtype, like.device);

    private static void CheckChannelAxis(Tensor tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        var channelAxis = tensor.dim() switch { 3 => 0, 4 => 1, _ => -1 };
        if (channelAxis < 0 || tensor.shape[channelAxis] != Channels || !torch.is_floating_point(tensor))
            throw new ArgumentException($"Expected a floating-point [3, H, W] or [N, 3, H, W] tensor, got {tensor.dtype} [{string.Join(", ", tensor.shape)}].", name);
    }
}
