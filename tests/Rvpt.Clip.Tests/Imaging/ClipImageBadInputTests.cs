using System.Buffers.Binary;
using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>
/// Inputs beyond <see cref="ClipImageDecodingTests"/>: CMYK and EXIF-rotated JPEGs, decompression bombs in PNG and
/// JPEG headers, and files that are images only by extension.
/// </summary>
public sealed class ClipImageBadInputTests : IDisposable
{
    private readonly Rvpt.Testing.TempDirectory folder = new();
    private readonly ClipImageProcessor processor = new(new ClipImageProcessorOptions { ImageSize = 32 });

    /// <summary>Deletes the generated files.</summary>
    public void Dispose() => folder.Dispose();

    /// <summary>
    /// A CMYK JPEG with an Adobe marker (as Photoshop writes them: inverted CMYK, stored 255 = no ink) decodes to RGB
    /// with the naive R = C·K/255 conversion on the stored values, as Pillow's convert('RGB') does; no ICC profile is
    /// applied. ImageSharp 2.1 cannot encode CMYK, so the file is written by <see cref="FlatCmykJpeg"/>.
    /// </summary>
    [Fact]
    public void Cmyk_jpeg_is_converted_to_rgb()
    {
        // Stored (inverted) C, M, Y, K of two 8 x 8 blocks: a red without black ink, and a 50% black.
        byte[][] blocks = [[200, 40, 30, 255], [255, 255, 255, 128]];
        var path = folder.Write("cmyk.jpg", FlatCmykJpeg(blocks));
        var info = Image.Identify(path);
        Assert.Equal((16, 8), (info.Width, info.Height));
        Assert.Equal(32, info.PixelType.BitsPerPixel); // four 8-bit components

        using var decoded = processor.Decode(path);
        AssertNear(new Rgb24(200, 40, 30), decoded[3, 4]);
        AssertNear(new Rgb24(128, 128, 128), decoded[12, 4]);
        using var tensor = processor.Load(path);
        Assert.Equal([3L, 32, 32], tensor.shape);

        static void AssertNear(Rgb24 want, Rgb24 got) =>
            Assert.True(Math.Abs(got.R - want.R) <= 2 && Math.Abs(got.G - want.G) <= 2 && Math.Abs(got.B - want.B) <= 2, $"decoded {got}, expected {want}");
    }

    /// <summary>
    /// EXIF orientation in a JPEG is not applied (Pillow's Image.open, and so OpenAI's CLIP, ignore it): a 40 x 20
    /// image tagged "rotate 90°" stays 40 x 20 with its stored pixels.
    /// </summary>
    [Theory]
    [InlineData((ushort)6)]
    [InlineData((ushort)3)]
    [InlineData((ushort)8)]
    public void Exif_orientation_in_a_jpeg_is_not_applied(ushort orientation)
    {
        using var original = TestImages.Pattern(40, 20);
        var plain = folder.File($"plain-{orientation}.jpg");
        original.Save(plain, new JpegEncoder { Quality = 95 });
        original.Metadata.ExifProfile = new ExifProfile();
        original.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        var tagged = folder.File($"rotated-{orientation}.jpg");
        original.Save(tagged, new JpegEncoder { Quality = 95 });
        Assert.Equal(orientation, Image.Identify(tagged).Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value);

        using var decoded = processor.Decode(tagged);
        using var reference = processor.Decode(plain);
        Assert.Equal((40, 20), (decoded.Width, decoded.Height));
        Assert.Equal(TestImages.Bytes(reference), TestImages.Bytes(decoded));
    }

    /// <summary>A PNG whose IHDR (with a valid CRC) claims 50000 x 50000 pixels is refused from the header, quickly.</summary>
    [Fact]
    public void Png_decompression_bomb_is_refused_before_decoding()
    {
        var bytes = Encode(new PngEncoder());
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), 50_000); // IHDR width
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), 50_000); // IHDR height
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), Crc32(bytes.AsSpan(12, 17)));
        AssertBombRefused(folder.Write("bomb.png", bytes), "50000 x 50000");
    }

    /// <summary>A baseline JPEG whose SOF0 claims 65000 x 65000 pixels is refused from the header, quickly.</summary>
    [Fact]
    public void Jpeg_decompression_bomb_is_refused_before_decoding()
    {
        var bytes = Encode(new JpegEncoder { Quality = 80 });
        var sof = bytes.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        Assert.True(sof > 0);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 5), 65_000); // height
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(sof + 7), 65_000); // width
        AssertBombRefused(folder.Write("bomb.jpg", bytes), "65000 x 65000");
    }

    /// <summary>The limit is a documented option: lowering it refuses an ordinary image, naming it and the limit.</summary>
    [Fact]
    public void The_pixel_limit_is_configurable_and_has_a_pillow_like_default()
    {
        Assert.Equal(100_000_000, new ClipImageProcessorOptions().MaxPixels);
        Assert.Equal(ClipImageProcessorOptions.DefaultMaxPixels, new ClipImageProcessor().Options.MaxPixels);
        var path = folder.Write("ok.png", Encode(new PngEncoder()));
        var strict = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = 32, MaxPixels = 100 });
        var e = Assert.Throws<InvalidDataException>(() => strict.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("limit of 100", e.Message);
        Assert.Throws<ArgumentException>(() => new ClipImageProcessor(new ClipImageProcessorOptions { MaxPixels = 0 }));
    }

    /// <summary>Files that only carry an image extension: HTML, a zip archive, random bytes, a bare signature.</summary>
    [Theory]
    [InlineData("page.jpg", "<!doctype html><html><body>404 Not Found</body></html>")]
    [InlineData("archive.png", "PK\u0003\u0004\u0014\u0000\u0000\u0000\u0008\u0000")]
    [InlineData("signature-only.png", "\u0089PNG\r\n\u001a\n")]
    [InlineData("signature-only.jpg", "\u00FF\u00D8\u00FF")]
    [InlineData("signature-only.gif", "GIF89a")]
    [InlineData("signature-only.bmp", "BM")]
    [InlineData("whitespace.webp", "   \n\n\t ")]
    public void Non_images_with_image_extensions_are_invalid_data(string name, string content)
    {
        var path = folder.Write(name, content.Select(c => (byte)c).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => processor.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("expected", e.Message);
    }

    /// <summary>Random bytes under every extension are refused, never anything but <see cref="InvalidDataException"/>.</summary>
    [Fact]
    public void Random_bytes_are_invalid_data()
    {
        var random = new Random(12);
        foreach (var extension in new[] { ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tiff", ".tga" })
        {
            var bytes = new byte[random.Next(1, 4096)];
            random.NextBytes(bytes);
            var path = folder.Write("random" + extension, bytes);
            Assert.Contains(path, Assert.Throws<InvalidDataException>(() => processor.Decode(path)).Message);
        }
    }

    private void AssertBombRefused(string path, string size)
    {
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<InvalidDataException>(() => processor.Decode(path));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"refusing took {clock.Elapsed}");
        Assert.Contains(path, e.Message);
        Assert.Contains(size, e.Message);
        Assert.Contains("MaxPixels", e.Message);
    }

    private static byte[] Encode(SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var image = TestImages.Pattern(24, 16);
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    /// <summary>
    /// A baseline JPEG of 8 x 8 flat blocks side by side with four components (C, M, Y, K, sampling 1 x 1), an Adobe
    /// APP14 marker (transform 0: CMYK), quantisation 1 and only DC coefficients: the smallest CMYK JPEG a decoder
    /// must handle. <paramref name="blocks"/> holds the stored C, M, Y, K value of each block.
    /// </summary>
    private static byte[] FlatCmykJpeg(byte[][] blocks)
    {
        var output = new List<byte>();
        void Marker(byte code, params byte[] payload)
        {
            output.AddRange([0xFF, code, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
            output.AddRange(payload);
        }

        int width = 8 * blocks.Length, height = 8;
        output.AddRange([0xFF, 0xD8]);
        Marker(0xEE, [.. "Adobe"u8, 0, 100, 0, 0, 0, 0, 0]);
        Marker(0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);
        Marker(0xC0, [8, 0, (byte)height, 0, (byte)width, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0]);
        // DC: the standard luminance table (categories 0-11); AC: one symbol, end-of-block, coded "0".
        byte[] dcCounts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        Marker(0xC4, [0x00, .. dcCounts, .. Enumerable.Range(0, 12).Select(v => (byte)v)]);
        Marker(0xC4, [0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
        Marker(0xDA, [4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);

        // Canonical DC codes from the counts.
        var dcCodes = new (int Code, int Length)[12];
        int code = 0, symbol = 0;
        for (var length = 1; length <= 16; length++, code <<= 1)
        {
            for (var n = 0; n < dcCounts[length - 1]; n++)
                dcCodes[symbol++] = (code++, length);
        }

        var bits = new List<bool>();
        void Put(int value, int length)
        {
            for (var i = length - 1; i >= 0; i--)
                bits.Add(((value >> i) & 1) != 0);
        }
        var previous = new int[4];
        foreach (var block in blocks)
        {
            for (var c = 0; c < 4; c++)
            {
                var dc = 8 * (block[c] - 128); // DCT of a flat block: 8 x the level-shifted value
                var diff = dc - previous[c];
                previous[c] = dc;
                var category = diff == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)Math.Abs(diff));
                Put(dcCodes[category].Code, dcCodes[category].Length);
                Put(diff >= 0 ? diff : diff + (1 << category) - 1, category);
                Put(0, 1); // end of block
            }
        }
        while (bits.Count % 8 != 0)
            bits.Add(true);
        for (var i = 0; i < bits.Count; i += 8)
        {
            var b = (byte)Enumerable.Range(0, 8).Sum(k => bits[i + k] ? 1 << (7 - k) : 0);
            output.Add(b);
            if (b == 0xFF)
                output.Add(0x00); // byte stuffing
        }
        output.AddRange([0xFF, 0xD9]);
        return [.. output];
    }

    /// <summary>The CRC-32 PNG uses (ISO-HDLC).</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
