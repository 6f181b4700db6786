using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing.Processors.Quantization;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>
/// Decoding of generated files in every supported format and colour mode, and the errors for files that are
/// missing, empty, truncated, corrupt, not images or too large.
/// </summary>
public sealed class ClipImageDecodingTests : IDisposable
{
    private static readonly Rgb24[] PaletteColors = [new(255, 0, 0), new(0, 200, 0), new(10, 20, 250), new(255, 255, 255)];

    private readonly Rvpt.Testing.TempDirectory folder = new();
    private readonly ClipImageProcessor processor = new(new ClipImageProcessorOptions { ImageSize = 32 });

    /// <summary>Deletes the generated files.</summary>
    public void Dispose() => folder.Dispose();

    private string Save<TPixel>(Image<TPixel> image, string name, IImageEncoder encoder)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        var path = folder.File(name);
        image.Save(path, encoder);
        return path;
    }

    private string SavePattern(string name, IImageEncoder encoder, int width = 40, int height = 30)
    {
        using var image = TestImages.Pattern(width, height);
        return Save(image, name, encoder);
    }

    private static Image<Rgb24> PaletteImage(int width, int height, int shift = 0)
    {
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
                image[x, y] = PaletteColors[(x / 4 + y / 4 + shift) % PaletteColors.Length];
        }
        return image;
    }

    private static PaletteQuantizer ExactPalette() =>
        new(PaletteColors.Select(c => Color.FromRgb(c.R, c.G, c.B)).ToArray(), new QuantizerOptions { Dither = null });

    private void AssertLoads(string path)
    {
        using var tensor = processor.Load(path);
        Assert.Equal([3L, 32, 32], tensor.shape);
        Assert.True(tensor.isfinite().all().item<bool>());
    }

    /// <summary>Lossless formats decode to exactly the pixels written, and load to [3, S, S].</summary>
    [Theory]
    [InlineData("rgb.png")]
    [InlineData("rgb24.bmp")]
    [InlineData("rgb.tga")]
    [InlineData("rgb.tiff")]
    [InlineData("lossless.webp")]
    public void Lossless_formats_round_trip_exactly(string name)
    {
        IImageEncoder encoder = Path.GetExtension(name) switch
        {
            ".png" => new PngEncoder(),
            ".bmp" => new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 },
            ".tga" => new TgaEncoder(),
            ".tiff" => new TiffEncoder(),
            _ => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        };
        using var original = TestImages.Pattern(40, 30);
        var path = Save(original, name, encoder);

        using var decoded = processor.Decode(path);
        Assert.Equal(TestImages.Bytes(original), TestImages.Bytes(decoded));
        AssertLoads(path);
    }

    /// <summary>Grayscale is replicated into R, G and B, as PIL's convert('RGB') does.</summary>
    [Fact]
    public void Grayscale_png_is_replicated_to_rgb()
    {
        using var gray = new Image<L8>(20, 10);
        for (var y = 0; y < 10; y++)
        {
            for (var x = 0; x < 20; x++)
                gray[x, y] = new L8((byte)(x * 12 + y));
        }
        var path = Save(gray, "gray.png", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 });

        using var decoded = processor.Decode(path);
        Assert.Equal(new Rgb24(5 * 12 + 3, 5 * 12 + 3, 5 * 12 + 3), decoded[5, 3]);
        AssertLoads(path);
    }

    /// <summary>Alpha is dropped without compositing onto a background, as PIL's convert('RGB') does.</summary>
    [Fact]
    public void Rgba_png_drops_alpha_without_compositing()
    {
        using var rgba = new Image<Rgba32>(16, 8);
        for (var y = 0; y < 8; y++)
        {
            for (var x = 0; x < 16; x++)
                rgba[x, y] = new Rgba32((byte)(x * 15), (byte)(y * 30), 77, (byte)(x * 16 + y));
        }
        var path = Save(rgba, "rgba.png", new PngEncoder { ColorType = PngColorType.RgbWithAlpha });

        using var decoded = processor.Decode(path);
        Assert.Equal(new Rgb24(3 * 15, 5 * 30, 77), decoded[3, 5]);
        Assert.Equal(new Rgb24(0, 0, 77), decoded[0, 0]); // alpha 0: colour kept, not blackened or whitened
        AssertLoads(path);
    }

    /// <summary>Palette images are looked up to their palette colours.</summary>
    [Fact]
    public void Palette_png_is_looked_up()
    {
        using var original = PaletteImage(24, 16);
        var path = Save(original, "palette.png", new PngEncoder { ColorType = PngColorType.Palette, Quantizer = ExactPalette() });

        using var decoded = processor.Decode(path);
        Assert.Equal(TestImages.Bytes(original), TestImages.Bytes(decoded));
        AssertLoads(path);
    }

    /// <summary>Only the first frame of an animated GIF is used, as with PIL's Image.open.</summary>
    [Fact]
    public void Gif_uses_the_first_frame()
    {
        using var animation = PaletteImage(24, 16);
        using (var second = PaletteImage(24, 16, shift: 1))
            animation.Frames.AddFrame(second.Frames.RootFrame);
        var path = Save(animation, "animated.gif", new GifEncoder { Quantizer = ExactPalette() });

        using var decoded = processor.Decode(path);
        using var first = PaletteImage(24, 16);
        Assert.Equal(1, decoded.Frames.Count);
        Assert.Equal(TestImages.Bytes(first), TestImages.Bytes(decoded));
        AssertLoads(path);
    }

    /// <summary>16-bit samples are scaled to 8 bits (v * 257 -> v).</summary>
    [Fact]
    public void Sixteen_bit_png_is_scaled_to_eight_bits()
    {
        using var rgb48 = new Image<Rgb48>(12, 6);
        using var l16 = new Image<L16>(12, 6);
        for (var y = 0; y < 6; y++)
        {
            for (var x = 0; x < 12; x++)
            {
                rgb48[x, y] = new Rgb48((ushort)(x * 20 * 257), (ushort)(y * 40 * 257), (ushort)(200 * 257));
                l16[x, y] = new L16((ushort)((x + y) * 10 * 257));
            }
        }
        var rgbPath = Save(rgb48, "rgb16.png", new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 });
        var grayPath = Save(l16, "gray16.png", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 });

        using (var decoded = processor.Decode(rgbPath))
            Assert.Equal(new Rgb24(7 * 20, 3 * 40, 200), decoded[7, 3]);
        using (var decoded = processor.Decode(grayPath))
            Assert.Equal(new Rgb24(100, 100, 100), decoded[7, 3]);
        AssertLoads(rgbPath);
        AssertLoads(grayPath);
    }

    /// <summary>JPEG (colour and grayscale) loads to [3, S, S].</summary>
    [Fact]
    public void Jpeg_loads()
    {
        AssertLoads(SavePattern("colour.jpg", new JpegEncoder { Quality = 90 }));
        using var gray = new Image<L8>(30, 20, new L8(90));
        AssertLoads(Save(gray, "gray.jpg", new JpegEncoder { ColorType = JpegColorType.Luminance }));
    }

    /// <summary>EXIF orientation is not applied (PIL's Image.open does not either): pixels stay as stored.</summary>
    [Fact]
    public void Exif_orientation_is_not_applied()
    {
        using var original = TestImages.Pattern(40, 20);
        original.Metadata.ExifProfile = new ExifProfile();
        original.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6); // "rotate 90° clockwise to display"
        var path = Save(original, "rotated.png", new PngEncoder());
        Assert.Equal((ushort)6, Image.Identify(path).Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value);

        using var decoded = processor.Decode(path);
        Assert.Equal((40, 20), (decoded.Width, decoded.Height));
        Assert.Equal(TestImages.Bytes(original), TestImages.Bytes(decoded));
    }

    /// <summary>A stream is decoded from its current position, also when it cannot seek.</summary>
    [Fact]
    public void Streams_decode_from_their_position_and_without_seeking()
    {
        using var original = TestImages.Pattern(40, 30);
        var encoded = new MemoryStream();
        original.SaveAsPng(encoded);
        var png = encoded.ToArray();

        using var prefixed = new MemoryStream([.. new byte[] { 1, 2, 3, 4, 5 }, .. png]) { Position = 5 };
        using (var decoded = processor.Decode(prefixed, "prefixed entry"))
            Assert.Equal(TestImages.Bytes(original), TestImages.Bytes(decoded));

        using var oneWay = new NonSeekableStream(png);
        using (var decoded = processor.Decode(oneWay, "one-way stream"))
            Assert.Equal(TestImages.Bytes(original), TestImages.Bytes(decoded));
    }

    /// <summary>A missing file or folder gives FileNotFoundException carrying the path.</summary>
    [Fact]
    public void Missing_file_throws_file_not_found_with_the_path()
    {
        var path = folder.File("nope.png");
        var ex = Assert.Throws<FileNotFoundException>(() => processor.Load(path));
        Assert.Equal(path, ex.FileName);
        Assert.Contains(path, ex.Message);

        var inMissingFolder = Path.Combine(folder.Path, "no-such-folder", "x.jpg");
        Assert.Equal(inMissingFolder, Assert.Throws<FileNotFoundException>(() => processor.Decode(inMissingFolder)).FileName);
    }

    /// <summary>Text with an image extension is refused, naming the file and the formats expected.</summary>
    [Fact]
    public void Text_with_png_extension_is_invalid_data_naming_the_file()
    {
        var path = folder.Write("notes.png", "this is a text file, not a picture\n"u8.ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => processor.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("PNG", ex.Message);
        Assert.Contains("JPEG", ex.Message);
    }

    /// <summary>A zero-byte file is refused as empty.</summary>
    [Fact]
    public void Empty_file_is_invalid_data()
    {
        var path = folder.Write("empty.jpg", []);
        var ex = Assert.Throws<InvalidDataException>(() => processor.Decode(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("empty", ex.Message);
    }

    /// <summary>Cut-off files are refused (for PNG, JPEG, GIF and BMP, ImageSharp alone would fill the missing rows silently).</summary>
    [Theory]
    [InlineData("cut.png", 0.5)]
    [InlineData("cut-after-header.png", 0.02)]
    [InlineData("no-iend.png", -12)]
    [InlineData("cut.jpg", 0.5)]
    [InlineData("no-eoi.jpg", -2)]
    [InlineData("cut.webp", 0.5)]
    [InlineData("cut.gif", 0.5)]
    [InlineData("cut.bmp", 0.9)]
    [InlineData("cut.tiff", 0.5)]
    [InlineData("cut.tga", 0.5)]
    public void Truncated_file_is_invalid_data(string name, double keep)
    {
        IImageEncoder encoder = Path.GetExtension(name) switch
        {
            ".png" => new PngEncoder(),
            ".jpg" => new JpegEncoder { Quality = 90 },
            ".gif" => new GifEncoder(),
            ".bmp" => new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 },
            ".tiff" => new TiffEncoder(),
            ".tga" => new TgaEncoder(),
            _ => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        };
        var complete = File.ReadAllBytes(SavePattern("complete" + Path.GetExtension(name), encoder, 120, 90));
        var length = keep > 0 ? (int)(complete.Length * keep) : complete.Length + (int)keep;
        var path = folder.Write(name, complete[..length]);

        var ex = Assert.Throws<InvalidDataException>(() => processor.Load(path));
        Assert.Contains(path, ex.Message);
        // TIFF and TGA are rejected by ImageSharp itself, with its own wording.
        if (Path.GetExtension(name) is not (".tiff" or ".tga"))
            Assert.Contains("truncated", ex.Message);
    }

    /// <summary>Damaged data inside a complete-looking file is refused, naming the file.</summary>
    [Fact]
    public void Corrupt_png_is_invalid_data()
    {
        var bytes = File.ReadAllBytes(SavePattern("good.png", new PngEncoder(), 120, 90));
        var idat = bytes.AsSpan().IndexOf("IDAT"u8);
        bytes[idat + 20] ^= 0x5A; // breaks the chunk's CRC
        var path = folder.Write("corrupt.png", bytes);

        var ex = Assert.Throws<InvalidDataException>(() => processor.Load(path));
        Assert.Contains(path, ex.Message);
    }

    /// <summary>Images above MaxPixels are refused from the header, with their size and the limit.</summary>
    [Fact]
    public void Image_above_max_pixels_is_refused()
    {
        var path = SavePattern("big.png", new PngEncoder(), 64, 48);
        var small = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = 32, MaxPixels = 3000 });

        var ex = Assert.Throws<InvalidDataException>(() => small.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("64 x 48", ex.Message);
        Assert.Contains("3072", ex.Message);
        Assert.Contains("3000", ex.Message);
        using var tensor = processor.Load(path); // the default limit accepts it
    }

    /// <summary>
    /// A header claiming 60000 x 60000 pixels in a tiny file is refused before any pixel memory is touched
    /// (decoding it would need 10 GB).
    /// </summary>
    [Fact]
    public void Decompression_bomb_header_is_refused_before_decoding()
    {
        var bmp = new byte[54 + 16];
        "BM"u8.CopyTo(bmp);
        BitConverter.TryWriteBytes(bmp.AsSpan(2), bmp.Length); // file size
        BitConverter.TryWriteBytes(bmp.AsSpan(10), 54); // pixel data offset
        BitConverter.TryWriteBytes(bmp.AsSpan(14), 40); // BITMAPINFOHEADER
        BitConverter.TryWriteBytes(bmp.AsSpan(18), 60_000); // width
        BitConverter.TryWriteBytes(bmp.AsSpan(22), 60_000); // height
        BitConverter.TryWriteBytes(bmp.AsSpan(26), (short)1); // planes
        BitConverter.TryWriteBytes(bmp.AsSpan(28), (short)24); // bits per pixel
        var path = folder.Write("bomb.bmp", bmp);

        var ex = Assert.Throws<InvalidDataException>(() => processor.Decode(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("60000 x 60000", ex.Message);
        Assert.Contains("MaxPixels", ex.Message);
    }

    /// <summary>A failing file in a batch is named in the exception, whatever its position.</summary>
    [Fact]
    public void Batch_failure_names_the_failing_file()
    {
        var good = SavePattern("good.png", new PngEncoder());
        var bad = folder.Write("bad.jpg", "not a jpeg"u8.ToArray());
        var missing = folder.File("missing.png");

        var ex = Assert.Throws<InvalidDataException>(() => processor.LoadBatch([good, good, bad, good]));
        Assert.Contains(bad, ex.Message);
        Assert.Equal(missing, Assert.Throws<FileNotFoundException>(() => processor.LoadBatch([good, missing])).FileName);
    }

    /// <summary>A stream that can only be read forwards.</summary>
    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream inner = new(data);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
