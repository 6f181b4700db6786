using System.Buffers.Binary;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;

namespace Rvpt.Clip;

/// <summary>
/// Detects truncated PNG, JPEG, WebP, GIF and BMP files from their structure. ImageSharp decodes a cut-off PNG,
/// JPEG, GIF or BMP without complaint and leaves the missing rows black or grey, whereas Pillow raises "image file is
/// truncated"; a silently damaged training or evaluation image is worse than an error naming the file. (ImageSharp
/// itself rejects cut-off TIFF and TGA files.)
/// </summary>
internal static class ImageTruncationCheck
{
    private const int ScanBlock = 1 << 16;

    /// <summary>
    /// Why the encoded image in <paramref name="stream"/> (from <paramref name="start"/> to the stream's end) is
    /// incomplete, or <see langword="null"/> when it looks complete or the format is not checked. Leaves the
    /// stream position undefined.
    /// </summary>
    public static string? FindTruncation(Stream stream, long start, IImageFormat format)
    {
        if (format is PngFormat)
            return CheckPng(stream, start);
        if (format is JpegFormat)
            return CheckJpeg(stream, start);
        if (format is WebpFormat)
            return CheckWebp(stream, start);
        if (format is GifFormat)
            return CheckGif(stream, start);
        if (format is BmpFormat)
            return CheckBmp(stream, start);
        return null;
    }

    /// <summary>A PNG is a signature followed by length-prefixed chunks up to IEND; every chunk must be complete.</summary>
    private static string? CheckPng(Stream stream, long start)
    {
        Span<byte> header = stackalloc byte[8];
        var end = stream.Length;
        var position = start + 8;
        while (true)
        {
            if (position + 8 > end)
                return $"it ends after {end - start} bytes without the closing IEND chunk";
            stream.Position = position;
            stream.ReadExactly(header);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header);
            var type = System.Text.Encoding.ASCII.GetString(header[4..]);
            if (type == "IEND")
                return null;
            var next = position + 12 + length;
            if (next > end)
                return $"its {type} chunk at byte {position - start} needs {length + 12} bytes but only {end - position} remain";
            position = next;
        }
    }

    /// <summary>
    /// A JPEG's segments lead to its first scan (SOS); an end-of-image marker (FF D9) must follow it. Entropy-coded
    /// data cannot contain FF D9 (0xFF bytes are stuffed), so the last FF D9 in the file shows whether the end is there.
    /// </summary>
    private static string? CheckJpeg(Stream stream, long start)
    {
        var end = stream.Length;
        var position = start + 2; // after SOI
        Span<byte> marker = stackalloc byte[4];
        long scanStart;
        while (true)
        {
            if (position + 2 > end)
                return $"it ends after {end - start} bytes before any image data";
            stream.Position = position;
            stream.ReadExactly(marker[..2]);
            if (marker[0] != 0xFF)
                return null; // Not a clean segment structure; leave the verdict to the decoder.
            var code = marker[1];
            if (code == 0xFF)
            {
                position++; // fill byte
                continue;
            }
            if (code == 0x01 || code is >= 0xD0 and <= 0xD8)
            {
                position += 2; // standalone marker
                continue;
            }
            if (code == 0xD9)
                return "it ends (FF D9) before any image data";
            if (position + 4 > end)
                return $"it ends after {end - start} bytes inside the segment header at byte {position - start}";
            stream.ReadExactly(marker[2..4]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(marker[2..]);
            var next = position + 2 + length;
            if (next > end)
                return $"its segment FF {code:X2} at byte {position - start} needs {length + 2} bytes but only {end - position} remain";
            if (code == 0xDA)
            {
                scanStart = next;
                break;
            }
            position = next;
        }

        return HasEndOfImageAfter(stream, scanStart, end)
            ? null
            : "its scan data is not followed by an end-of-image marker (FF D9)";
    }

    private static bool HasEndOfImageAfter(Stream stream, long scanStart, long end)
    {
        // Scan backwards: a complete file usually ends with FF D9, so this reads one block.
        var buffer = new byte[ScanBlock];
        var high = end;
        var following = -1; // first byte of the block after the current one
        while (high > scanStart)
        {
            var low = Math.Max(scanStart, high - ScanBlock);
            var count = (int)(high - low);
            stream.Position = low;
            stream.ReadExactly(buffer, 0, count);
            for (var i = count - 1; i >= 0; i--)
            {
                var next = i + 1 < count ? buffer[i + 1] : following;
                if (buffer[i] == 0xFF && next == 0xD9)
                    return true;
            }
            following = buffer[0];
            high = low;
        }
        return false;
    }

    /// <summary>A WebP file is one RIFF chunk whose header states its size.</summary>
    private static string? CheckWebp(Stream stream, long start)
    {
        Span<byte> header = stackalloc byte[8];
        var available = stream.Length - start;
        if (available < 8)
            return $"it ends after {available} bytes inside the RIFF header";
        stream.Position = start;
        stream.ReadExactly(header);
        var needed = 8L + BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        return available < needed ? $"its RIFF header declares {needed} bytes but the file has {available}" : null;
    }

    /// <summary>
    /// A GIF's first image (the only one used) must be complete: the blocks up to its image descriptor and its chain
    /// of LZW data sub-blocks up to the zero-length terminator.
    /// </summary>
    private static string? CheckGif(Stream stream, long start)
    {
        var end = stream.Length;
        if (end - start < 13)
            return $"it ends after {end - start} bytes inside the GIF header";
        stream.Position = start + 10;
        var screenFlags = stream.ReadByte();
        var position = start + 13 + ColorTableLength(screenFlags);
        while (true)
        {
            if (position >= end)
                return "it ends before its first image";
            stream.Position = position;
            switch (stream.ReadByte())
            {
                case 0x21: // extension: introducer, label, sub-blocks
                    position += 2;
                    if (!SkipSubBlocks(stream, ref position, end))
                        return $"it ends inside an extension block at byte {position - start}";
                    break;
                case 0x2C: // image descriptor (10 bytes), local colour table, LZW code size, data sub-blocks
                    if (position + 10 > end)
                        return "it ends inside the first image descriptor";
                    stream.Position = position + 9;
                    position += 10 + ColorTableLength(stream.ReadByte()) + 1;
                    return SkipSubBlocks(stream, ref position, end) ? null : "it ends inside the first image's pixel data";
                case 0x3B:
                    return "it ends (trailer) before any image";
                default:
                    return null; // Unknown block; leave the verdict to the decoder.
            }
        }

        static int ColorTableLength(int flags) => (flags & 0x80) != 0 ? 3 << ((flags & 0x07) + 1) : 0;
    }

    private static bool SkipSubBlocks(Stream stream, ref long position, long end)
    {
        while (position < end)
        {
            stream.Position = position;
            var size = stream.ReadByte();
            position += 1 + size;
            if (size == 0)
                return true;
        }
        return false;
    }

    /// <summary>An uncompressed BMP must hold all rows its header declares after the pixel-data offset.</summary>
    private static string? CheckBmp(Stream stream, long start)
    {
        Span<byte> header = stackalloc byte[34];
        var available = stream.Length - start;
        if (available < header.Length)
            return null; // Old or odd headers: leave the verdict to the decoder.
        stream.Position = start;
        stream.ReadExactly(header);
        var dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[10..]);
        var infoSize = BinaryPrimitives.ReadUInt32LittleEndian(header[14..]);
        if (infoSize < 40)
            return null;
        long width = BinaryPrimitives.ReadInt32LittleEndian(header[18..]);
        long height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(header[22..]));
        int bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        var compression = BinaryPrimitives.ReadUInt32LittleEndian(header[30..]);
        // Only uncompressed layouts (BI_RGB, BI_BITFIELDS) have a size that follows from the header.
        if (compression is not (0 or 3) || bitsPerPixel is not (1 or 4 or 8 or 16 or 24 or 32) || width <= 0)
            return null;
        var stride = (width * bitsPerPixel + 31) / 32 * 4;
        var needed = dataOffset + stride * height;
        return available < needed ? $"its header declares {needed} bytes of pixels and headers but the file has {available}" : null;
    }
}
