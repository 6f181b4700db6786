using Rvpt.Clip;
using Rvpt.Testing;
using TorchSharp;
using Xunit;

namespace Rvpt.Tests;

public sealed class BatchLoaderTests : IDisposable
{
    private const int Size = 8;
    private static readonly ClipImageProcessor Processor = new(new ClipImageProcessorOptions { ImageSize = Size });
    private readonly TensorDataset data;

    public BatchLoaderTests()
    {
        var (images, labels) = DataTestImages.RandomTensors(10, 3, 12, 15, seed: 1);
        using (images)
        using (labels)
            data = new TensorDataset(images, labels, ["a", "b", "c"]);
    }

    public void Dispose() => data.Dispose();

    private static List<(float[] Images, long[] Labels, int[] Indices)> Collect(IEnumerable<ImageBatch> batches)
    {
        var result = new List<(float[], long[], int[])>();
        foreach (var batch in batches)
        {
            using (batch)
                result.Add((batch.Images.data<float>().ToArray(), batch.Labels.data<long>().ToArray(), batch.Indices.ToArray()));
        }
        return result;
    }

    [Fact]
    public void CoversEverySampleOncePerEpochWithBatchShapes()
    {
        var loader = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 4, Seed = 3 });
        Assert.Equal(3, loader.BatchesPerEpoch);

        var shapes = new List<long[]>();
        var indices = new List<int>();
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            {
                shapes.Add(batch.Images.shape);
                Assert.Equal(torch.ScalarType.Float32, batch.Images.dtype);
                Assert.Equal(torch.ScalarType.Int64, batch.Labels.dtype);
                Assert.Equal(DeviceType.CPU, batch.Images.device_type);
                Assert.Equal([(long)batch.Count], batch.Labels.shape);
                Assert.Equal(batch.Indices.Select(i => (long)data.GetLabel(i)), batch.Labels.data<long>().ToArray());
                Assert.True(batch.Images.isfinite().all().item<bool>());
                indices.AddRange(batch.Indices);
            }
        }

        Assert.Equal([[4L, 3, Size, Size], [4L, 3, Size, Size], [2L, 3, Size, Size]], shapes);
        Assert.Equal(Enumerable.Range(0, 10), indices.Order());
        Assert.NotEqual(Enumerable.Range(0, 10), indices);
    }

    [Fact]
    public void DropLastDropsThePartialBatch()
    {
        var loader = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 4, DropLast = true });

        var batches = Collect(loader.Epoch(0));

        Assert.Equal(2, loader.BatchesPerEpoch);
        Assert.Equal([4, 4], batches.Select(b => b.Indices.Length));
    }

    [Fact]
    public void SameSeedAndEpochGiveBitIdenticalBatchesWhateverTheParallelism()
    {
        var serial = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 3, Seed = 5, MaxDegreeOfParallelism = 1, PrefetchBatches = 1 });
        var parallel = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 3, Seed = 5, MaxDegreeOfParallelism = 8, PrefetchBatches = 3 });

        var a = Collect(serial.Epoch(2));
        var b = Collect(parallel.Epoch(2));
        var c = Collect(parallel.Epoch(2));

        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Indices, b[i].Indices);
            Assert.Equal(a[i].Labels, b[i].Labels);
            Assert.Equal(a[i].Images, b[i].Images);
            Assert.Equal(b[i].Images, c[i].Images);
        }
    }

    [Fact]
    public void EachImageGetsItsOwnAugmentation()
    {
        // Two copies of one image: identical outputs would mean the per-image seeds are not independent.
        using var one = torch.rand([1, 3, 12, 15], generator: new torch.Generator(4));
        using var images = torch.cat([one, one], 0);
        using var labels = torch.tensor(new long[] { 0, 0 });
        using var twins = new TensorDataset(images, labels, ["a"]);
        var loader = new BatchLoader(twins, Processor, new BatchLoaderOptions { BatchSize = 2, Shuffle = false });

        var batch = Collect(loader.Epoch(0)).Single();

        var half = batch.Images.Length / 2;
        Assert.NotEqual(batch.Images[..half], batch.Images[half..]);
    }

    [Fact]
    public void OtherEpochOrSeedGivesAnotherOrder()
    {
        var loader = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 10, Seed = 5 });
        var other = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 10, Seed = 6 });

        var epoch0 = Collect(loader.Epoch(0)).Single().Indices;
        var epoch1 = Collect(loader.Epoch(1)).Single().Indices;
        var otherSeed = Collect(other.Epoch(0)).Single().Indices;

        Assert.NotEqual(epoch0, epoch1);
        Assert.NotEqual(epoch0, otherSeed);
    }

    [Fact]
    public void WithoutShuffleAndAugmentationBatchesAreTheEvalTransformInOrder()
    {
        var loader = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 4, Shuffle = false, Augment = false });
        var eval = new ClipEvalTransform(Processor);

        var batches = loader.Epoch(0).ToList();
        try
        {
            Assert.Equal(Enumerable.Range(0, 10), batches.SelectMany(b => b.Indices));
            using var pixels01 = data.LoadPixels01(5);
            using var expected = eval.Apply(pixels01);
            using var actual = batches[1].Images[1];
            TensorAssert.BitIdentical(expected, actual.contiguous(), "image 5");
        }
        finally
        {
            batches.ForEach(b => b.Dispose());
        }
    }

    [Fact]
    public async Task AsyncEpochMatchesSyncEpoch()
    {
        var loader = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 4, Seed = 9 });
        var sync = Collect(loader.Epoch(1));

        var asyncBatches = new List<(float[] Images, int[] Indices)>();
        await foreach (var batch in loader.EpochAsync(1))
        {
            using (batch)
                asyncBatches.Add((batch.Images.data<float>().ToArray(), batch.Indices.ToArray()));
        }

        Assert.Equal(sync.Select(b => b.Indices), asyncBatches.Select(b => b.Indices));
        Assert.Equal(sync.Select(b => b.Images), asyncBatches.Select(b => b.Images));
    }

    [Fact]
    public void CancellationStopsTheEpoch()
    {
        var loader = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 2 });
        using var cts = new CancellationTokenSource();
        var seen = 0;

        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            foreach (var batch in loader.Epoch(0, cts.Token))
            {
                batch.Dispose();
                seen++;
                cts.Cancel();
            }
        });
        Assert.Equal(1, seen);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => loader.Epoch(0, cancelled.Token).ToList());
    }

    [Fact]
    public void StoppingEarlyDoesNotHangAndAllowsAnotherEpoch()
    {
        var loader = new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 1, PrefetchBatches = 1 });

        foreach (var batch in loader.Epoch(0))
        {
            batch.Dispose();
            break;
        }

        Assert.Equal(10, Collect(loader.Epoch(1)).Count);
    }

    [Fact]
    public async Task CorruptFileSurfacesNamingTheFile()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("cat", 5), ("dog", 5));
        var corrupt = Path.Combine(dir.Path, "dog", "img03.png");
        File.WriteAllBytes(corrupt, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var folder = ImageFolderDataset.Open(dir.Path, Processor);
        var loader = new BatchLoader(folder, Processor, new BatchLoaderOptions { BatchSize = 3, MaxDegreeOfParallelism = 4 });

        var ex = Assert.Throws<InvalidDataException>(() => Collect(loader.Epoch(0)));
        Assert.Contains(corrupt, ex.Message);

        var asyncEx = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var batch in loader.EpochAsync(0))
                batch.Dispose();
        });
        Assert.Contains(corrupt, asyncEx.Message);
    }

    [Fact]
    public void ImageFolderFewShotPipelineGivesNormalisedBatches()
    {
        using var dir = new TempDirectory();
        DataTestImages.WriteFolder(dir.Path, ("cat", 4), ("dog", 3));
        var shots = FewShotSampler.Sample(ImageFolderDataset.Open(dir.Path, Processor), 2, seed: 1);
        var loader = new BatchLoader(shots, Processor, new BatchLoaderOptions { BatchSize = 8, Seed = 1 });

        var batch = Collect(loader.Epoch(0)).Single();

        Assert.Equal(4 * 3 * Size * Size, batch.Images.Length);
        Assert.Equal([0L, 0, 1, 1], batch.Labels.Order());
        Assert.All(batch.Images, v => Assert.InRange(v, -1.80f, 2.15f));
    }

    [Fact]
    public void RejectsBadOptionsAndEpoch()
    {
        Assert.Throws<ArgumentException>(() => new BatchLoader(data, Processor, new BatchLoaderOptions { BatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => new BatchLoader(data, Processor, new BatchLoaderOptions { PrefetchBatches = 0 }));
        Assert.Throws<ArgumentException>(() => new BatchLoader(data, Processor, new BatchLoaderOptions { MaxDegreeOfParallelism = 0 }));
        var loader = new BatchLoader(data, Processor);
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.Epoch(-1));
    }
}
