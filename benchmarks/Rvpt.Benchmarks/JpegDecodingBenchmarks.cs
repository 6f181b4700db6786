using BenchmarkDotNet.Attributes;
using Rvpt.Clip;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace Rvpt.Benchmarks;

/// <summary>
/// JPEG decoding to RGB, in memory, of one generated photo-like 4:2:0 quality-90 file: ImageSharp 2.1's decoder (what
/// <see cref="ClipImageProcessor"/> used before) against the library's libjpeg-turbo-exact decoder (what it uses now),
/// at a typical CLIP input size and at about one megapixel.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class JpegDecodingBenchmarks
{
    private readonly Configuration _configuration = Configuration.Default;
    private byte[] _jpeg = [];

    /// <summary>Image size, width x height.</summary>
    [Params("300x225", "1152x864")]
    public string Size { get; set; } = "300x225";

    [GlobalSetup]
    public void Setup()
    {
        var parts = Size.Split('x');
        _jpeg = Photo(int.Parse(parts[0]), int.Parse(parts[1]));
        if (PillowCompatible() != ImageSharp())
            throw new InvalidOperationException("The two decoders disagree on the image size.");
    }

    /// <summary>ImageSharp's own JPEG decoder.</summary>
    [Benchmark(Baseline = true)]
    [SingleItem]
    public int ImageSharp()
    {
        using var image = Image.Load<Rgb24>(_configuration, _jpeg);
        return image.Width;
    }

    /// <summary>The libjpeg-turbo-exact decoder (islow IDCT, fancy upsampling, libjpeg's colour tables).</summary>
    [Benchmark]
    [SingleItem]
    public int PillowCompatible()
    {
        using var image = PillowJpegDecoder.Decode(_jpeg, _configuration, long.MaxValue)
            ?? throw new InvalidOperationException("The file was left to ImageSharp.");
        return image.Width;
    }

    /// <summary>Smooth gradients, soft blobs and mild grain (a photograph's statistics), saved as 4:2:0 quality 90.</summary>
    private static byte[] Photo(int width, int height)
    {
        var random = new Random(5);
        using var image = new Image<Rgb24>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++)
                {
                    var grain = random.Next(-6, 7);
                    var blob = 60 * Math.Sin(x * 0.05) * Math.Cos(y * 0.07);
                    row[x] = new Rgb24(
                        (byte)Math.Clamp(80 + 120.0 * x / width + blob + grain, 0, 255),
                        (byte)Math.Clamp(60 + 140.0 * y / height - blob + grain, 0, 255),
                        (byte)Math.Clamp(128 + blob * 1.5 + grain, 0, 255));
                }
            }
        });
        using var stream = new MemoryStream();
        image.SaveAsJpeg(stream, new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 });
        return stream.ToArray();
    }
}
