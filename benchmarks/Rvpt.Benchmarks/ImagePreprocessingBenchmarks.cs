using BenchmarkDotNet.Attributes;
using Rvpt.Clip;
using TorchSharp;

namespace Rvpt.Benchmarks;

/// <summary>
/// Image preprocessing on generated 500 x 375 images: CLIP's eval pipeline (decode, bicubic resize, centre crop,
/// normalise) for one file and for a batch decoded in parallel, and one training batch through
/// <see cref="BatchLoader"/> (decode + CoOp random resized crop + flip + normalise, parallel, prefetching), which is
/// the data-loading work of a training step.
/// </summary>
[Config(typeof(BenchmarkConfig))]
public class ImagePreprocessingBenchmarks
{
    private readonly NativeStats _stats = new();
    private GeneratedImages? _images;
    private ClipImageProcessor? _processor;
    private BatchLoader? _loader;
    private ImageFolderDataset? _folder;
    private int _epoch;

    /// <summary>Images per batch.</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Batches))]
    public int Batch { get; set; }

    /// <summary>File format.</summary>
    [Params("jpeg", "png")]
    public string Format { get; set; } = "jpeg";

    /// <summary>Decoding threads (and libtorch threads).</summary>
    [ParamsSource(typeof(BenchParameters), nameof(BenchParameters.Threads))]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        _images = new GeneratedImages(Batch, format: Format);
        _processor = new ClipImageProcessor(new ClipImageProcessorOptions { MaxDegreeOfParallelism = Threads });
        _folder = ImageFolderDataset.Open(_images.Root, _processor);
        _loader = new BatchLoader(_folder, _processor, new BatchLoaderOptions
        {
            BatchSize = Batch, Augment = true, Shuffle = true, MaxDegreeOfParallelism = Threads, Seed = 1,
        });
        LoadBatch();
        LoaderBatch();
        _stats.AfterSetup();
    }

    /// <summary>One file through the eval pipeline, on the calling thread (the time is per image).</summary>
    [Benchmark]
    [SingleItem]
    public long LoadOne()
    {
        using var t = _processor!.Load(_images!.Paths[0]);
        return t.shape[0];
    }

    /// <summary><see cref="Batch"/> files through the eval pipeline in parallel into one tensor.</summary>
    [Benchmark]
    public long LoadBatch()
    {
        using var t = _processor!.LoadBatch(_images!.Paths);
        return t.shape[0];
    }

    /// <summary>One augmented training batch from <see cref="BatchLoader"/> (a new epoch each time: new crops).</summary>
    [Benchmark]
    public long LoaderBatch()
    {
        long n = 0;
        foreach (var batch in _loader!.Epoch(_epoch++))
        {
            using (batch) n += batch.Count;
        }
        return n;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stats.BeforeCleanup();
        _images?.Dispose();
    }
}
