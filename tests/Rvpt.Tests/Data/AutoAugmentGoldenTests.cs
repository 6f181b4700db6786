using System.Globalization;
using System.Text.Json;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

/// <summary>
/// <see cref="AutoAugment"/> against torchvision 0.14 (<c>Golden/make_autoaugment_golden.py</c>): every op of
/// <c>_apply_op</c> on uint8 tensors at several bins and both signs, the magnitude tables, the three policy tables,
/// and <c>AutoAugment.forward</c> with saved draws for each ImageNet sub-policy. All comparisons are exact.
/// </summary>
public sealed class AutoAugmentGoldenTests
{
    private static readonly string GoldenPath = Path.Combine(AppContext.BaseDirectory, "Golden", "autoaugment.safetensors");

    /// <summary>The ops, one test case each.</summary>
    public static TheoryData<string> Ops() => new(Enum.GetNames<AutoAugmentOp>());

    private static NamedTensors Golden() => new(GoldenPath);

    /// <summary>The golden cases: tensor key, input image key, op, the magnitude torchvision was given.</summary>
    private static List<(string Key, string Image, AutoAugmentOp Op, double Magnitude)> Cases(NamedTensors golden) =>
        JsonSerializer.Deserialize<string[][]>(golden.Metadata["cases"])!
            .Select(c => (c[0], c[1], Enum.Parse<AutoAugmentOp>(c[2]), double.Parse(c[3], CultureInfo.InvariantCulture)))
            .ToList();

    [Theory]
    [MemberData(nameof(Ops))]
    public void Op_IsBitIdenticalToTorchvision(string opName)
    {
        var op = Enum.Parse<AutoAugmentOp>(opName);
        using var golden = Golden();
        var cases = Cases(golden).Where(c => c.Op == op).ToList();
        Assert.NotEmpty(cases);
        var failures = new List<string>();
        foreach (var (key, image, _, magnitude) in cases)
        {
            using var input = golden[image].clone();
            using var actual = AutoAugmentOps.Apply(input, op, magnitude);
            var expected = golden[key];
            Assert.Equal(ScalarType.Byte, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            using var differ = actual.ne(expected);
            long count = differ.sum().item<long>();
            if (count > 0)
                failures.Add($"{key} (magnitude {magnitude:R}): {count} of {expected.numel()} values differ, max |diff| {TensorAssert.MaxAbsDiff(expected, actual)}");
            TensorAssert.BitIdentical(golden[image], input, $"{key}: the input must not change");
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void MagnitudeTables_AreTorchvisionsForBothSizes()
    {
        using var golden = Golden();
        var ops = JsonSerializer.Deserialize<string[]>(golden.Metadata["ops"])!;
        Assert.Equal(Enum.GetNames<AutoAugmentOp>(), ops); // the enum is in _augmentation_space's order
        var signed = JsonSerializer.Deserialize<string[]>(golden.Metadata["signed"])!;
        Assert.Equal(signed, Enum.GetValues<AutoAugmentOp>().Where(AutoAugmentOps.IsSigned).Select(o => o.ToString()));
        foreach (var (name, height, width) in new[] { ("square", 24, 24), ("wide", 16, 28) })
        {
            var table = golden[$"table_{name}"].data<double>().ToArray();
            for (int op = 0; op < ops.Length; op++)
                for (int bin = 0; bin < AutoAugmentOps.MagnitudeBins; bin++)
                    Assert.True(table[op * AutoAugmentOps.MagnitudeBins + bin] == AutoAugmentOps.Magnitude((AutoAugmentOp)op, bin, height, width),
                        $"{ops[op]} bin {bin} at {height} x {width}: torchvision {table[op * AutoAugmentOps.MagnitudeBins + bin]:R}, Rvpt {AutoAugmentOps.Magnitude((AutoAugmentOp)op, bin, height, width):R}");
        }
    }

    [Fact]
    public void TranslateMagnitudes_AreTorchvisionsForEveryWidthUpTo256()
    {
        using var golden = Golden();
        var table = golden["translate_by_width"].data<double>().ToArray();
        var failures = new List<string>();
        for (int width = 1; width <= 256; width++)
            for (int bin = 0; bin < AutoAugmentOps.MagnitudeBins; bin++)
            {
                double expected = table[(width - 1) * AutoAugmentOps.MagnitudeBins + bin], actual = AutoAugmentOps.Magnitude(AutoAugmentOp.TranslateX, bin, 1, width);
                if (expected != actual) failures.Add($"width {width} bin {bin}: torchvision {expected:R}, Rvpt {actual:R}");
            }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Theory]
    [InlineData(AutoAugmentPolicy.ImageNet, "imagenet")]
    [InlineData(AutoAugmentPolicy.Cifar10, "cifar10")]
    [InlineData(AutoAugmentPolicy.Svhn, "svhn")]
    public void PolicyTable_IsTorchvisions(AutoAugmentPolicy policy, string key)
    {
        using var golden = Golden();
        var rows = golden[$"policy_{key}"];
        Assert.Equal([25L, 2, 3], rows.shape);
        var values = rows.data<double>().ToArray();
        var table = AutoAugmentPolicies.For(policy);
        Assert.Equal(25, table.Count);
        for (int i = 0; i < 25; i++)
        {
            var steps = new[] { table[i].First, table[i].Second };
            for (int s = 0; s < 2; s++)
            {
                int at = (i * 2 + s) * 3;
                var expected = ((AutoAugmentOp)(int)values[at], values[at + 1], values[at + 2] < 0 ? (int?)null : (int)values[at + 2]);
                Assert.Equal(expected, (steps[s].Op, steps[s].Probability, steps[s].Bin));
            }
        }
    }

    [Fact]
    public void Forward_WithTorchvisionsDraws_IsBitIdenticalForEveryImageNetSubPolicy()
    {
        using var golden = Golden();
        var draws = golden["forward_draws"].data<double>().ToArray();
        var augment = new AutoAugment();
        var image = golden["wide"];
        for (int i = 0; i < 25; i++)
        {
            var row = draws.AsSpan(i * 5, 5);
            // torchvision negates a signed magnitude when signs[i] == 0.
            var draw = new AutoAugmentDraw((int)row[0], row[1], row[2], row[3] == 0, row[4] == 0);
            using var actual = augment.ApplyUint8(image, draw);
            TensorAssert.BitIdentical(golden[$"forward_{i}"], actual, $"sub-policy {i} with draws [{string.Join(", ", row.ToArray())}]");
        }
    }
}
