using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Clip;

/// <summary>
/// Decodes image files to 8-bit RGB the way CLIP's <c>Image.open(path)</c> + <c>convert('RGB')</c> sees them:
/// first frame only, alpha dropped without compositing, no EXIF orientation, no colour management. Refuses
/// oversized images from their header and reports unreadable files as <see cref="InvalidDataException"/>s that name
/// the file and say what was expected.
/// </summary>
internal sealed class ClipImageDecoder
{
    private readonly Configuration configuration;
    private readonly long maxPixels;
    private readonly string expectedFormats;

    public ClipImageDecoder(long maxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
        this.maxPixels = maxPixels;
        configuration = Configuration.Default.Clone();
        // Streams passed in may be positioned past a container header; read from where they stand.
        configuration.ReadOrigin = ReadOrigin.Current;
        // PIL's Image.open yields the first frame; decoding the others would only cost memory.
        configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { DecodingMode = FrameDecodingMode.First });
        expectedFormats = string.Join(", ", configuration.ImageFormats.Select(f => f.Name).Order(StringComparer.Ordinal));
    }

    /// <summary>Decodes the file at <paramref name="path"/>.</summary>
    public Image<Rgb24> Decode(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"Image file '{path}' was not found.", path, ex);
        }
        using (stream)
            return DecodeSeekable(stream, $"Image file '{path}'");
    }

    /// <summary>Decodes the image that starts at the current position of <paramref name="stream"/>.</summary>
    public Image<Rgb24> Decode(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        if (!stream.CanRead)
            throw new ArgumentException($"The stream for image '{sourceName}' is not readable.", nameof(stream));
        var source = $"Image '{sourceName}'";
        if (stream.CanSeek)
            return DecodeSeekable(stream, source);
        // The header is read before the pixels, so a one-way stream is buffered first.
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        buffer.Position = 0;
        return DecodeSeekable(buffer, source);
    }

    private Image<Rgb24> DecodeSeekable(Stream stream, string source)
    {
        var start = stream.Position;
        if (stream.Length - start <= 0)
            throw new InvalidDataException($"{source} is empty (0 bytes); expected an encoded image ({expectedFormats}).");

        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(configuration, stream, out format);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw Failure(ex, source, $"{source} has an unreadable header ({ex.Message}); expected a valid image ({expectedFormats}).");
        }
        if (info is null || format is null)
            throw new InvalidDataException($"{source} is not an image in a supported format; expected {expectedFormats}.");

        var pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw new InvalidDataException($"{source} declares an empty {info.Width} x {info.Height} {format.Name} image.");
        if (pixels > maxPixels)
            throw new InvalidDataException(
                $"{source} is {info.Width} x {info.Height} = {pixels} pixels, more than the limit of {maxPixels} " +
                $"(ClipImageProcessorOptions.MaxPixels); it was refused before decoding to guard against decompression bombs.");

        string? truncation;
        try
        {
            truncation = ImageTruncationCheck.FindTruncation(stream, start, format);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw Failure(ex, source, $"{source} could not be read as {format.Name} ({ex.Message}); expected a complete, valid {format.Name} image.");
        }
        if (truncation is not null)
            throw new InvalidDataException($"{source} is a truncated or damaged {format.Name} file: {truncation}.");

        stream.Position = start;
        Image<Rgb24> image;
        try
        {
            image = (format is JpegFormat ? DecodeJpeg(stream, start) : null) ?? Image.Load<Rgb24>(configuration, stream);
        }
        // Corrupt data surfaces as ImageSharp's format exceptions but also as index, argument or end-of-stream
        // errors from deep inside a decoder; all of them mean "this file is damaged".
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw Failure(ex, source, $"{source} could not be decoded as {format.Name} ({ex.Message}); expected a complete, valid {format.Name} image.");
        }

        // Formats without a first-frame-only mode (e.g. animated WebP) still load every frame; keep the first.
        while (image.Frames.Count > 1)
            image.Frames.RemoveFrame(image.Frames.Count - 1);
        return image;
    }

    /// <summary>
    /// Decodes a JPEG with <see cref="PillowJpegDecoder"/> (libjpeg-turbo's pixels, as Pillow gets them), or returns
    /// <see langword="null"/> with the stream back at <paramref name="start"/> when the file needs ImageSharp's decoder.
    /// </summary>
    private Image<Rgb24>? DecodeJpeg(Stream stream, long start)
    {
        var data = new byte[checked((int)(stream.Length - start))];
        stream.ReadExactly(data);
        var image = PillowJpegDecoder.Decode(data, configuration, maxPixels);
        stream.Position = start;
        return image;
    }

    /// <summary>
    /// The exception to throw for <paramref name="ex"/>: a genuine read error of the medium stays an
    /// <see cref="IOException"/> (naming the source); everything else means damaged data.
    /// </summary>
    private static Exception Failure(Exception ex, string source, string invalidDataMessage) =>
        ex is IOException and not EndOfStreamException
            ? new IOException($"{source} could not be read: {ex.Message}", ex)
            : new InvalidDataException(invalidDataMessage, ex);
}
