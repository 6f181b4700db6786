using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>
/// The pieces of the libjpeg-turbo-exact JPEG decoder on hand-computed values, the AVX2 IDCT against the scalar port,
/// and damaged progressive / restart-marker files (which ImageSharp's encoder cannot write for the general fuzzer).
/// </summary>
public sealed class PillowJpegDecoderTests : IDisposable
{
    private readonly TempDirectory folder = new();

    /// <summary>Deletes the generated files.</summary>
    public void Dispose() => folder.Dispose();

    /// <summary>
    /// A DC-only block: coefficient 8 x quantiser 2 = 16 is 8 times the block's mean offset, so every sample is
    /// 128 + 2; a DC of 1600 (200 above the level shift) clamps to 255.
    /// </summary>
    [Theory]
    [InlineData(8, 2, 130)]
    [InlineData(-8, 2, 126)]
    [InlineData(200, 8, 255)]
    [InlineData(-200, 8, 0)]
    public void Idct_of_a_dc_only_block_is_flat(short dc, int quant, int expected)
    {
        var block = new short[64];
        block[0] = dc;
        var quantTable = Enumerable.Repeat(quant, 64).ToArray();
        var output = new byte[64];
        JpegIslowIdct.Transform(block, quantTable, output, 8);
        Assert.All(output, b => Assert.Equal(expected, b));
    }

    /// <summary>
    /// The AVX2 IDCT gives the scalar port's bytes on random blocks whose dequantised coefficients span twice what an
    /// 8-bit JPEG can hold (|coefficient x quantiser| up to 4095), including sums that leave 0..255 and clamp. (Beyond
    /// that, in damaged files only, 32-bit intermediates can overflow, and libjpeg-turbo's own C and SIMD versions
    /// disagree as well.)
    /// </summary>
    [SkippableFact]
    public void Avx2_idct_equals_the_scalar_port()
    {
        Skip.IfNot(Avx2.IsSupported, "AVX2 is not available.");
        var random = new Random(11);
        var block = new short[64];
        var quant = new int[64];
        var scalar = new byte[8 * 13];
        var vector = new byte[8 * 13];
        for (var trial = 0; trial < 2000; trial++)
        {
            var density = 1 + trial % 8; // from nearly all-zero blocks (the shortcut paths) to dense ones
            for (var i = 0; i < 64; i++)
            {
                quant[i] = random.Next(1, trial % 2 == 0 ? 256 : 16);
                var limit = 4095 / quant[i];
                block[i] = random.Next(density + 1) == 0 ? (short)random.Next(-limit, limit + 1) : (short)0;
            }
            JpegIslowIdct.TransformScalar(block, quant, scalar, 13);
            JpegIslowIdct.TransformAvx2(block, quant, vector, 13);
            Assert.Equal(scalar, vector);
        }
    }

    /// <summary>
    /// h2v1 fancy upsampling of [0, 100, 200]: 3/4 nearer + 1/4 further sample with biases 1 and 2, the end samples
    /// copied: [0, (0·3+100+2)/4, (300+0+1)/4, (300+200+2)/4, (600+100+1)/4, 200].
    /// </summary>
    [Fact]
    public void Horizontal_fancy_upsampling_is_triangular()
    {
        var upsampler = new JpegUpsampler([0, 100, 200], stride: 3, width: 3, height: 1, horizontalFactor: 2, verticalFactor: 1);
        Assert.Equal(new byte[] { 0, 25, 75, 125, 175, 200 }, upsampler.Row(0).ToArray());
    }

    /// <summary>
    /// h2v2 fancy upsampling of a 3 x 2 plane: output row 0 mixes input row 0 with itself (the row above the first is
    /// a copy), row 1 mixes 3/4 of row 0 with 1/4 of row 1; columns as in h2v1 but with biases 8 and 7 over 16.
    /// </summary>
    [Fact]
    public void Two_by_two_fancy_upsampling_weights_9_3_3_1()
    {
        byte[] plane = [0, 100, 200, 40, 40, 40];
        var upsampler = new JpegUpsampler(plane, stride: 3, width: 3, height: 2, horizontalFactor: 2, verticalFactor: 2);
        // Row 0: column sums 4·[0, 100, 200] = [0, 400, 800].
        Assert.Equal(new byte[] { 0, (0 * 3 + 400 + 7) >> 4, (400 * 3 + 0 + 8) >> 4, (400 * 3 + 800 + 7) >> 4, (800 * 3 + 400 + 8) >> 4, (800 * 4 + 7) >> 4 },
            upsampler.Row(0).ToArray());
        // Row 1: column sums 3·row0 + row1 = [40, 340, 640].
        Assert.Equal(new byte[] { (40 * 4 + 8) >> 4, (40 * 3 + 340 + 7) >> 4, (340 * 3 + 40 + 8) >> 4, (340 * 3 + 640 + 7) >> 4, (640 * 3 + 340 + 8) >> 4, (640 * 4 + 7) >> 4 },
            upsampler.Row(1).ToArray());
    }

    /// <summary>
    /// libjpeg's YCbCr tables: neutral chroma leaves gray; Cr 100 above neutral adds round(1.402·100) = 140 to red and
    /// floor(-0.71414·100 + 0.5) = -71 to green; results clamp to 0..255.
    /// </summary>
    [Fact]
    public void YCbCr_conversion_uses_libjpeg_rounding()
    {
        var rgb = new byte[9];
        JpegYCbCrToRgb.ConvertRow([128, 100, 250], [128, 128, 128], [128, 228, 228], rgb);
        Assert.Equal(new byte[] { 128, 128, 128, 240, 29, 100, 255, 179, 250 }, rgb);
    }

    /// <summary>
    /// Damaged progressive and restart-marker JPEGs (bits flipped, bytes overwritten in headers and scan data) decode
    /// or are refused with an <see cref="InvalidDataException"/> naming the file, never anything else, quickly.
    /// </summary>
    [Fact]
    public void Damaged_progressive_and_restart_files_decode_or_fail_with_invalid_data()
    {
        var processor = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = 16, MaxPixels = 1 << 16, MaxDegreeOfParallelism = 1 });
        string[] seeds = ["photo61x45_420_q90_progressive_restart", "photo61x45_420_q90_restart", "photo64x48_420_q75_progressive", "photo61x45_440_q90_baseline"];
        var outcomes = new Dictionary<bool, int>();
        for (var i = 0; i < 120; i++)
        {
            var random = new Random(3100 + i);
            var seed = seeds[i % seeds.Length];
            var bytes = File.ReadAllBytes(JpegGolden.PathOf(seed));
            for (var m = random.Next(1, 4); m > 0; m--)
            {
                var at = random.Next(2, bytes.Length - 2); // keep SOI and EOI
                if (random.Next(2) == 0)
                    bytes[at] ^= (byte)(1 << random.Next(8));
                else
                    bytes[at] = (byte)random.Next(256);
            }
            var path = folder.Write($"damaged-{i}.jpg", bytes);
            var clock = Stopwatch.StartNew();
            var loaded = FuzzAssert.LoadsOrRefuses($"case {i} (damaged {seed})", path, () =>
            {
                using var image = processor.Decode(path);
            });
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"case {i} took {clock.Elapsed}");
            outcomes[loaded] = outcomes.GetValueOrDefault(loaded) + 1;
        }
        // Like libjpeg, most damage to scan data still decodes; damaged headers are refused.
        Assert.True(outcomes.GetValueOrDefault(true) > 0 && outcomes.GetValueOrDefault(false) > 0, $"decoded {outcomes.GetValueOrDefault(true)}, refused {outcomes.GetValueOrDefault(false)}");
    }
}
