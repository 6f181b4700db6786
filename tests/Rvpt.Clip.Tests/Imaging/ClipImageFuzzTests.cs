using System.Buffers.Binary;
using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Tiff.Constants;
using SixLabors.ImageSharp.Formats.Webp;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>
/// A seeded mutation fuzzer for the image decoder: a few hundred damaged variants of small valid files in every
/// format (bits flipped, bytes overwritten, inserted or cut, header fields set to extreme values, a chunk claiming
/// 2 GB). Each must decode to an image within the pixel limit or be refused with an <see cref="InvalidDataException"/>
/// naming the file — never another exception, and never slowly.
/// </summary>
public sealed class ClipImageFuzzTests : IDisposable
{
    private const int Cases = 480;
    private const long MaxPixels = 1 << 16;

    private static readonly uint[] Extremes = [0, 1, 0xFF, 0xFFFF, 0x7FFF, 0x8000, 0xFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 65_000, 30_000];

    private readonly TempDirectory folder = new();
    private readonly ClipImageProcessor processor = new(new ClipImageProcessorOptions { ImageSize = 16, MaxPixels = MaxPixels, MaxDegreeOfParallelism = 1 });

    /// <summary>Deletes the generated files.</summary>
    public void Dispose() => folder.Dispose();

    [Fact]
    public void MutatedImagesDecodeOrFailWithInvalidDataOnly()
    {
        var seeds = SeedFiles();
        var outcomes = new Dictionary<string, int>();
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < Cases; i++)
        {
            var random = new Random(7000 + i);
            var (name, original) = seeds[i % seeds.Count];
            var (kind, bytes) = Mutate(original, name, random);
            var path = folder.Write($"case-{i}{Path.GetExtension(name)}", bytes);
            var what = $"case {i} ({kind} of {name}, {bytes.Length} bytes)";
            var clock = Stopwatch.StartNew();
            var outcome = FuzzAssert.LoadsOrRefuses(what, path, () =>
            {
                using var image = processor.Decode(path);
                Assert.True((long)image.Width * image.Height <= MaxPixels, $"{what}: decoded {image.Width} x {image.Height}");
            }) ? "decoded" : "refused";
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{what} took {clock.Elapsed}");
            File.Delete(path);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        Assert.True(outcomes.GetValueOrDefault("refused") > Cases / 4, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("decoded") > Cases / 20, string.Join(", ", outcomes));
    }

    /// <summary>The same bytes through the stream API behave the same (no file name, the source name instead).</summary>
    [Fact]
    public void MutatedStreamsDecodeOrFailWithInvalidDataOnly()
    {
        var seeds = SeedFiles();
        for (var i = 0; i < Cases / 4; i++)
        {
            var random = new Random(9000 + i);
            var (name, original) = seeds[i % seeds.Count];
            var (kind, bytes) = Mutate(original, name, random);
            try
            {
                using var stream = new MemoryStream(bytes, writable: false);
                using var image = processor.Decode(stream, $"entry-{i}");
            }
            catch (InvalidDataException e)
            {
                Assert.Contains($"entry-{i}", e.Message);
            }
            catch (Exception e)
            {
                Assert.Fail($"stream case {i} ({kind} of {name}) threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
    }

    private static List<(string Name, byte[] Bytes)> SeedFiles()
    {
        using var image = TestImages.Pattern(24, 16, seed: 3);
        (string, IImageEncoder)[] encoders =
        [
            ("rgb.png", new PngEncoder()),
            ("palette.png", new PngEncoder { ColorType = PngColorType.Palette }),
            ("gray16.png", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 }),
            ("interlaced.png", new PngEncoder { InterlaceMethod = PngInterlaceMode.Adam7 }),
            ("baseline.jpg", new JpegEncoder { Quality = 75 }),
            ("gray.jpg", new JpegEncoder { ColorType = JpegColorType.Luminance }),
            ("image.gif", new GifEncoder()),
            ("rgb24.bmp", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }),
            ("rgb8.bmp", new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel8 }),
            ("lossless.webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossless }),
            ("lossy.webp", new WebpEncoder { FileFormat = WebpFileFormatType.Lossy }),
            ("plain.tiff", new TiffEncoder()),
            ("lzw.tiff", new TiffEncoder { Compression = TiffCompression.Lzw }),
            ("rle.tga", new TgaEncoder { Compression = TgaCompression.RunLength }),
            ("binary.ppm", new PbmEncoder { ColorType = PbmColorType.Rgb, Encoding = PbmEncoding.Binary }),
        ];
        return encoders.Select(e =>
        {
            using var stream = new MemoryStream();
            image.Save(stream, e.Item2);
            return (e.Item1, stream.ToArray());
        }).ToList();
    }

    private static (string Kind, byte[] Bytes) Mutate(byte[] original, string name, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(8))
        {
            case 0:
                for (int n = random.Next(1, 9); n > 0; n--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return ("flip bits", bytes);
            case 1:
                return ("truncate", bytes[..random.Next(1, bytes.Length)]);
            case 2:
            {
                // A header field (first 64 bytes) set to an extreme value, in either byte order.
                var offset = random.Next(Math.Min(60, bytes.Length - 4));
                var value = Extremes[random.Next(Extremes.Length)];
                var span = bytes.AsSpan(offset, random.Next(2) == 0 ? 2 : 4);
                if (span.Length == 2)
                {
                    if (random.Next(2) == 0) BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value);
                    else BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value);
                }
                else if (random.Next(2) == 0) BinaryPrimitives.WriteUInt32BigEndian(span, value);
                else BinaryPrimitives.WriteUInt32LittleEndian(span, value);
                return ("header field", bytes);
            }
            case 3:
            {
                var offset = random.Next(bytes.Length);
                var run = new byte[Math.Min(random.Next(1, 32), bytes.Length - offset)];
                random.NextBytes(run);
                run.CopyTo(bytes, offset);
                return ("overwrite run", bytes);
            }
            case 4:
            {
                var offset = random.Next(bytes.Length);
                var extra = new byte[random.Next(1, 64)];
                random.NextBytes(extra);
                return ("insert bytes", [.. bytes[..offset], .. extra, .. bytes[offset..]]);
            }
            case 5:
            {
                var start = random.Next(bytes.Length);
                var length = random.Next(1, Math.Max(2, bytes.Length - start));
                return ("cut out", [.. bytes[..start], .. bytes[Math.Min(bytes.Length, start + length)..]]);
            }
            case 6 when name.EndsWith(".png", StringComparison.Ordinal):
            {
                // An ancillary chunk right after IHDR that claims about 2 GB of data the file does not hold.
                byte[] chunk = [0x7F, 0xFF, 0xFF, 0xF0, .. "tEXt"u8, .. "k\0v"u8];
                return ("huge PNG chunk", [.. bytes[..33], .. chunk, .. bytes[33..]]);
            }
            case 6 when name.EndsWith(".jpg", StringComparison.Ordinal):
            {
                // A segment after SOI whose length runs past the end of the file.
                byte[] segment = [0xFF, 0xE1, 0xFF, 0xFF, .. "Exif\0\0"u8];
                return ("long JPEG segment", [.. bytes[..2], .. segment, .. bytes[2..]]);
            }
            default:
            {
                // A second copy of a random slice (repeated chunks, segments or strips).
                var start = random.Next(bytes.Length);
                var length = Math.Min(random.Next(1, 200), bytes.Length - start);
                var at = random.Next(bytes.Length);
                return ("duplicate slice", [.. bytes[..at], .. bytes.AsSpan(start, length), .. bytes[at..]]);
            }
        }
    }
}
