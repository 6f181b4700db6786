using Xunit;

namespace Rvpt.Tests;

public sealed class FewShotSamplerTests
{
    /// <summary>Labels only; images are never loaded by the sampler.</summary>
    private sealed class LabelsOnly(int[] labels, int classes) : ILabeledImageSource
    {
        public int Count => labels.Length;
        public IReadOnlyList<string> ClassNames { get; } = Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray();
        public int GetLabel(int index) => labels[index];
        public string Describe(int index) => $"item {index}";
        public TorchSharp.torch.Tensor LoadPixels01(int index) => throw new NotSupportedException();
    }

    // 3 classes with 10, 7 and 12 images, interleaved.
    private static readonly LabelsOnly Source = new(
        Enumerable.Range(0, 29).Select(i => i < 21 ? i % 3 : (i < 27 ? (i % 2 == 0 ? 0 : 2) : 2)).ToArray(), 3);

    [Fact]
    public void TakesExactlyKPerClassGroupedByClass()
    {
        var counts = Source.CountPerClass();
        Assert.True(counts.Min() >= 4, $"fixture counts {string.Join(",", counts)}");

        var subset = FewShotSampler.Sample(Source, 4, seed: 1);

        Assert.Equal(12, subset.Count);
        Assert.Equal([4, 4, 4], subset.CountPerClass());
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], Enumerable.Range(0, subset.Count).Select(subset.GetLabel));
        Assert.Equal(subset.Indices.Count, subset.Indices.Distinct().Count());
        Assert.All(Enumerable.Range(0, subset.Count), i => Assert.Equal(Source.GetLabel(subset.ParentIndex(i)), subset.GetLabel(i)));
        Assert.Same(Source.ClassNames, subset.ClassNames);
    }

    [Fact]
    public void SameSeedSameSampleOtherSeedOtherSample()
    {
        var a = FewShotSampler.Sample(Source, 3, seed: 7).Indices;
        var b = FewShotSampler.Sample(Source, 3, seed: 7).Indices;
        var c = FewShotSampler.Sample(Source, 3, seed: 8).Indices;

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void SampleIsPinnedAcrossRunsAndMachines()
    {
        // Pinned output: catches any change of the algorithm (Random(int) + Fisher-Yates per class in class order).
        var labels = Enumerable.Range(0, 20).Select(i => i % 2).ToArray();
        var expected = Expected(labels, classes: 2, shots: 3, seed: 5);

        Assert.Equal(expected, FewShotSampler.Sample(new LabelsOnly(labels, 2), 3, seed: 5).Indices);
    }

    [Fact]
    public void ShortfallThrowsNamingTheClassUnlessUseAll()
    {
        var ex = Assert.Throws<InvalidDataException>(() => FewShotSampler.Sample(Source, 8, seed: 0));
        Assert.Contains("'class1'", ex.Message);
        Assert.Contains("has 7 images", ex.Message);
        Assert.Contains("8 shots", ex.Message);

        var all = FewShotSampler.Sample(Source, 8, seed: 0, FewShotShortfall.UseAll);
        Assert.Equal([8, 7, 8], all.CountPerClass());
    }

    [Fact]
    public void NonPositiveShotsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FewShotSampler.Sample(Source, 0, seed: 0));
    }

    /// <summary>An independent re-statement of the documented algorithm.</summary>
    private static int[] Expected(int[] labels, int classes, int shots, int seed)
    {
        var random = new Random(seed);
        var result = new List<int>();
        for (var c = 0; c < classes; c++)
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            for (var i = members.Length - 1; i > 0; i--)
            {
                var j = random.Next(i + 1);
                (members[i], members[j]) = (members[j], members[i]);
            }
            result.AddRange(members.Take(shots).Order());
        }
        return [.. result];
    }

    /// <summary>Seeds are long; one beyond int range is hashed (<see cref="SeedMixer.To32"/>), not truncated to the int it ends in.</summary>
    [Fact]
    public void ASeedBeyondIntRangeIsNotTruncated() =>
        Assert.NotEqual(FewShotSampler.Sample(Source, 3, seed: 5).Indices, FewShotSampler.Sample(Source, 3, seed: (1L << 32) + 5).Indices);
}
