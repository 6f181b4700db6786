using Rvpt.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// <see cref="AutoAugment"/>'s contract: the uint8 ops of the quantised image, the documented draw order and
/// determinism, shape/dtype/device kept, the input untouched, and clear errors for bad input. The ops themselves are
/// checked against torchvision in <see cref="AutoAugmentGoldenTests"/>.
/// </summary>
public sealed class AutoAugmentTests
{
    /// <summary>A [3, H, W] image of 8-bit values / 255, with a ramp so geometric ops change it.</summary>
    private static Tensor Image(int height, int width, int seed = 3, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var noise = randint(0, 256, [3, height, width], generator: new Generator((ulong)seed)).to_type(ScalarType.Float32);
        var ramp = linspace(0, 255, width).expand(3, height, width);
        return ((noise * 0.4 + ramp * 0.6).round() / 255).to_type(dtype).MoveToOuterDisposeScope();
    }

    private static Tensor Quantised(Tensor pixels01) => pixels01.to_type(ScalarType.Float32).clamp(0, 1).mul(255).round().to_type(ScalarType.Byte);

    [Fact]
    public void Apply_IsTheUint8OpsOfTheQuantisedImageOver255()
    {
        using var image = Image(20, 26);
        using var bytes = Quantised(image);
        var augment = new AutoAugment();
        for (int seed = 0; seed < 12; seed++)
        {
            using var scope = NewDisposeScope();
            var actual = augment.Apply(image, new Random(seed));
            var expected = augment.ApplyUint8(bytes, augment.Draw(new Random(seed))).to_type(ScalarType.Float32) / 255;
            TensorAssert.BitIdentical(expected, actual, $"seed {seed}");
        }
    }

    [Fact]
    public void Draw_TakesFiveValuesInTorchvisionsOrder()
    {
        var augment = new AutoAugment();
        for (int seed = 0; seed < 20; seed++)
        {
            var random = new Random(seed);
            var draw = augment.Draw(random);
            var replay = new Random(seed);
            var expected = new AutoAugmentDraw(replay.Next(25), replay.NextDouble(), replay.NextDouble(), replay.Next(2) == 0, replay.Next(2) == 0);
            Assert.Equal(expected, draw);
            Assert.Equal(replay.Next(), random.Next()); // exactly five draws, whatever applies
        }
    }

    [Fact]
    public void SameSeedGivesTheSameImage_SeedsCoverEverySubPolicyAndSign()
    {
        using var image = Image(16, 16);
        var augment = new AutoAugment();
        using var a = augment.Apply(image, new Random(42));
        using var b = augment.Apply(image, new Random(42));
        TensorAssert.BitIdentical(a, b, "same seed");

        var draws = Enumerable.Range(0, 400).Select(s => augment.Draw(new Random(s))).ToList();
        Assert.Equal(Enumerable.Range(0, 25), draws.Select(d => d.SubPolicy).Distinct().Order());
        Assert.Contains(draws, d => d.FirstNegative);
        Assert.Contains(draws, d => !d.FirstNegative);
        Assert.All(draws, d => Assert.InRange(d.FirstProbability, 0, 1));
        int changed = Enumerable.Range(0, 20).Count(s =>
        {
            using var output = augment.Apply(image, new Random(s));
            return TensorAssert.MaxAbsDiff(image, output) > 0;
        });
        Assert.InRange(changed, 10, 20); // most sub-policies apply at least one op (each step with probability 0-1)
    }

    [Fact]
    public void AStepThatDoesNotApplyCopies_AndQuantisationIsRoundOfClampTimes255()
    {
        var augment = new AutoAugment();
        // Sub-policy 12 is (Equalize, 0.0), (Equalize, 0.8): draws of 0.9 apply neither step.
        using var bytes = Quantised(Image(8, 8));
        using var same = augment.ApplyUint8(bytes, new AutoAugmentDraw(12, 0.9, 0.9, false, false));
        TensorAssert.BitIdentical(bytes, same, "no op");
        Assert.NotEqual(bytes.Handle, same.Handle);

        // A seed whose draw applies nothing shows the quantisation alone, clamping out-of-range values.
        int seed = Enumerable.Range(0, 1000).First(s =>
        {
            var d = augment.Draw(new Random(s));
            return d.SubPolicy == 12 && d.SecondProbability > 0.8;
        });
        using var pixels = tensor(new float[] { -0.1f, 0f, 0.5f, 1f, 1.2f, 0.3f }).reshape(3, 1, 2);
        using var output = augment.Apply(pixels, new Random(seed));
        // round(x * 255), half to even: 0.5 -> 127.5 -> 128; 0.3 -> 76.5 (the float32 product) -> 76.
        using var expected = tensor(new float[] { 0, 0, 128, 255, 255, 76 }).reshape(3, 1, 2) / 255;
        TensorAssert.BitIdentical(expected, output, "quantised");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void Apply_KeepsShapeDtypeAndDevice_StaysInRange_AndLeavesTheInput(ScalarType dtype)
    {
        using var image = Image(19, 33, dtype: dtype);
        using var before = image.clone();
        var augment = new AutoAugment();
        for (int seed = 0; seed < 8; seed++)
        {
            using var output = augment.Apply(image, new Random(seed));
            Assert.Equal(image.shape, output.shape);
            Assert.Equal(dtype, output.dtype);
            Assert.Equal((image.device_type, image.device_index), (output.device_type, output.device_index));
            Assert.InRange(output.min().to_type(ScalarType.Float64).item<double>(), 0, 1);
            Assert.InRange(output.max().to_type(ScalarType.Float64).item<double>(), 0, 1);
            using var levels = output.to_type(ScalarType.Float64) * 255;
            Assert.True(TensorAssert.MaxAbsDiff(levels.round(), levels) < 1e-4, $"seed {seed}: not 8-bit levels");
            Assert.NotEqual(image.Handle, output.Handle);
        }
        TensorAssert.BitIdentical(before, image, "input");
    }

    [Fact]
    public void RejectsImagesThatAreNotFloatingPoint3HW()
    {
        var augment = new AutoAugment();
        using var bytes = zeros([3, 8, 8], dtype: ScalarType.Byte);
        using var gray = zeros(1, 8, 8);
        using var flat = zeros(3, 8);
        using var batch = zeros(2, 3, 8, 8);
        using var empty = zeros(3, 0, 8);
        foreach (var bad in new[] { bytes, gray, flat, batch, empty })
        {
            var e = Assert.Throws<ArgumentException>(() => augment.Apply(bad, new Random(1)));
            Assert.Contains("[3, H, W]", e.Message, StringComparison.Ordinal);
        }
        using var image = zeros(3, 8, 8);
        Assert.Throws<ArgumentNullException>(() => augment.Apply(image, null!));
        Assert.Throws<ArgumentException>(() => AutoAugmentOps.Apply(image, AutoAugmentOp.Invert, 0)); // the ops take uint8
        Assert.Throws<ArgumentException>(() => new AutoAugment(new AutoAugmentOptions { Policy = (AutoAugmentPolicy)7 }));
    }

    [Fact]
    public void MagnitudesTorchvisionRefuses_AreRefused()
    {
        using var bytes = zeros([3, 4, 4], dtype: ScalarType.Byte);
        Assert.Throws<ArgumentOutOfRangeException>(() => AutoAugmentOps.Apply(bytes, AutoAugmentOp.Posterize, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => AutoAugmentOps.Apply(bytes, AutoAugmentOp.Solarize, 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => AutoAugmentOps.Apply(bytes, AutoAugmentOp.Brightness, -1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => AutoAugmentOps.Magnitude(AutoAugmentOp.Rotate, 10, 4, 4));
    }

    [Fact]
    public void ConcurrentCallsOnOneInstanceMatchSequentialOnes()
    {
        using var image = Image(24, 24);
        var augment = new AutoAugment();
        var sequential = Enumerable.Range(0, 8).Select(s => augment.Apply(image, new Random(s))).ToArray();
        var parallel = new Tensor[8];
        Parallel.For(0, 8, s => parallel[s] = augment.Apply(image, new Random(s)));
        try
        {
            for (int s = 0; s < 8; s++)
                TensorAssert.BitIdentical(sequential[s], parallel[s], $"seed {s}");
        }
        finally
        {
            foreach (var t in sequential.Concat(parallel)) t.Dispose();
        }
    }

    [SkippableFact]
    public void Cuda_MatchesCpu()
    {
        Skip.IfNot(cuda.is_available(), "CUDA is not available");
        using var image = Image(24, 40);
        using var gpuImage = image.cuda();
        var augment = new AutoAugment();
        for (int seed = 0; seed < 25; seed++)
        {
            using var cpu = augment.Apply(image, new Random(seed));
            using var gpu = augment.Apply(gpuImage, new Random(seed));
            Assert.Equal(DeviceType.CUDA, gpu.device_type);
            // Nearest sampling can pick the neighbouring pixel where CUDA's grid arithmetic rounds a tie the other way.
            using var differ = cpu.ne(gpu.cpu());
            Assert.True(differ.to_type(ScalarType.Float32).mean().item<float>() < 0.02, $"seed {seed}: CUDA differs at {differ.sum().item<long>()} values");
        }
    }
}
