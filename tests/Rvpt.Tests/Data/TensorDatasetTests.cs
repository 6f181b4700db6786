using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Tests;

public sealed class TensorDatasetTests
{
    private static readonly string[] Names = ["cat", "dog"];

    [Fact]
    public void CopiesImagesAndServesThemPerIndex()
    {
        var (images, labels) = DataTestImages.RandomTensors(4, 2, 5, 6);
        using var expected = images[2].clone();
        using var data = new TensorDataset(images, labels, Names);
        images.Dispose();
        labels.Dispose();

        using var image = data.LoadPixels01(2);

        TensorAssert.BitIdentical(expected, image, "image 2");
        Assert.Equal(4, data.Count);
        Assert.Equal([0, 1, 0, 1], Enumerable.Range(0, 4).Select(data.GetLabel));
        Assert.Equal("item 3", data.Describe(3));
        Assert.Equal((5, 6), (data.Height, data.Width));
    }

    [Fact]
    public void RejectsBadShapes()
    {
        using var labels = tensor(new long[] { 0, 1 });
        using var threeDims = rand(2, 3, 4);
        using var fourChannels = rand(2, 4, 4, 4);
        using var integers = zeros([2, 3, 4, 4], ScalarType.Int32);
        using var images = rand(2, 3, 4, 4);
        using var shortLabels = tensor(new long[] { 0 });
        using var floatLabels = tensor(new float[] { 0, 1 });

        Assert.Contains("[N, 3, H, W]", Assert.Throws<ArgumentException>(() => new TensorDataset(threeDims, labels, Names)).Message);
        Assert.Throws<ArgumentException>(() => new TensorDataset(fourChannels, labels, Names));
        Assert.Throws<ArgumentException>(() => new TensorDataset(integers, labels, Names));
        Assert.Contains("[2]", Assert.Throws<ArgumentException>(() => new TensorDataset(images, shortLabels, Names)).Message);
        Assert.Throws<ArgumentException>(() => new TensorDataset(images, floatLabels, Names));
    }

    [Fact]
    public void RejectsOutOfRangeLabelNamingIt()
    {
        using var images = rand(3, 3, 4, 4);
        using var labels = tensor(new long[] { 0, 1, 2 });
        using var negative = tensor(new long[] { 0, -1, 1 });

        var ex = Assert.Throws<ArgumentException>(() => new TensorDataset(images, labels, Names));
        Assert.Contains("labels[2] = 2", ex.Message);
        Assert.Contains("labels[1] = -1", Assert.Throws<ArgumentException>(() => new TensorDataset(images, negative, Names)).Message);
    }

    [Fact]
    public void RejectsNonFiniteAndOutOfRangePixelsNamingTheImage()
    {
        using var labels = tensor(new long[] { 0, 1, 0 });
        using var nan = rand(3, 3, 4, 4);
        nan[1, 2, 3, 0] = tensor(float.NaN);
        using var inf = rand(3, 3, 4, 4);
        inf[2, 0, 0, 0] = tensor(float.PositiveInfinity);
        using var normalised = rand(3, 3, 4, 4);
        normalised[0, 1, 1, 1] = tensor(-0.5f);

        Assert.Contains("images[1] contains NaN", Assert.Throws<ArgumentException>(() => new TensorDataset(nan, labels, Names)).Message);
        Assert.Contains("images[2] contains NaN or infinity", Assert.Throws<ArgumentException>(() => new TensorDataset(inf, labels, Names)).Message);
        Assert.Contains("images[0] has values outside [0, 1]", Assert.Throws<ArgumentException>(() => new TensorDataset(normalised, labels, Names)).Message);
    }

    [Fact]
    public void RejectsBadClassNames()
    {
        using var images = rand(2, 3, 4, 4);
        using var labels = tensor(new long[] { 0, 0 });

        Assert.Throws<ArgumentException>(() => new TensorDataset(images, labels, []));
        Assert.Contains("'cat' appears more than once", Assert.Throws<ArgumentException>(() => new TensorDataset(images, labels, ["cat", "cat"])).Message);
        Assert.Contains("classNames[1] is blank", Assert.Throws<ArgumentException>(() => new TensorDataset(images, labels, ["cat", " "])).Message);
    }

    [Fact]
    public void DisposedDatasetRefusesToLoad()
    {
        var (images, labels) = DataTestImages.RandomTensors(2, 2, 4, 4);
        using (images)
        using (labels)
        {
            var data = new TensorDataset(images, labels, Names);
            data.Dispose();
            Assert.Throws<ObjectDisposedException>(() => data.LoadPixels01(0));
        }
    }

    [Fact]
    public void ADatasetBuiltInsideADisposeScopeOutlivesIt()
    {
        TensorDataset data;
        using (TorchSharp.torch.NewDisposeScope())
        {
            var (images, labels) = DataTestImages.RandomTensors(2, 2, 4, 4);
            data = new TensorDataset(images, labels, Names);
        }
        using (data)
        using (var image = data.LoadPixels01(1))
            Assert.Equal([3L, 4, 4], image.shape);
    }
}
