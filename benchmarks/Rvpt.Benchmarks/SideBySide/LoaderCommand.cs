using System.Diagnostics;
using Rvpt.Clip;
using TorchSharp;

namespace Rvpt.Benchmarks;

/// <summary>
/// <c>loader</c> console mode: the data-loading share of an RVPT step. On generated 500 x 375 JPEGs it measures
/// (1) <see cref="BatchLoader"/> alone (decode + CoOp augmentation, parallel), seconds per batch; (2) the step on a
/// batch already in memory; (3) steps fed by the loader (prefetching in the background while the step runs): the
/// time the step loop waits for the next batch, and the whole step time. Prints one JSON line with the wait share
/// (wait / step with loader) and the slowdown share ((step with loader - step in memory) / step with loader), which
/// also counts the decoding threads competing with libtorch's for the cores.
/// <code>Rvpt.Benchmarks loader --batch 32 --threads 2 --steps 3 --dtype float32|bfloat16</code>
/// </summary>
public static class LoaderCommand
{
    /// <summary>Runs the mode.</summary>
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        int batch = cl.Int("batch", 32), threads = cl.Int("threads", Environment.ProcessorCount), steps = cl.Int("steps", 3);
        var dtype = cl.DType();
        var device = cl.Device();
        torch.set_num_threads(threads);

        using var images = new GeneratedImages(batch * (steps + 1));
        var processor = new ClipImageProcessor();
        var folder = ImageFolderDataset.Open(images.Root, processor);
        var loader = new BatchLoader(folder, processor, new BatchLoaderOptions
        {
            BatchSize = batch, Augment = true, Shuffle = true, MaxDegreeOfParallelism = threads, Seed = 1, DropLast = true,
        });

        // (1) The loader alone.
        var alone = new List<double>();
        var clock = Stopwatch.StartNew();
        foreach (var b in loader.Epoch(0))
        {
            using (b) alone.Add(clock.Elapsed.TotalSeconds);
            clock.Restart();
        }

        using var harness = new RvptStepHarness(device, dtype);
        // (2) Steps on an in-memory batch (the first is a warm-up).
        var inMemory = new List<double>();
        using (var inMemoryBatch = harness.RandomBatch(batch))
        {
            for (int i = 0; i < steps + 1; i++)
            {
                clock.Restart();
                harness.Step(inMemoryBatch);
                if (i > 0) inMemory.Add(clock.Elapsed.TotalSeconds);
            }
        }

        // (3) Steps fed by the loader: wait for the batch, then the step, as FewShotTrainer does.
        var waits = new List<double>();
        var totals = new List<double>();
        using (var e = loader.Epoch(1).GetEnumerator())
        {
            while (true)
            {
                clock.Restart();
                if (!e.MoveNext()) break;
                double waited = clock.Elapsed.TotalSeconds;
                using (var b = e.Current) harness.Step(b); // the step moves the images to the device itself
                waits.Add(waited);
                totals.Add(clock.Elapsed.TotalSeconds);
            }
        }
        // The first batch cannot overlap a step: report the steady state (batches after the first) when there is one.
        var steadyWaits = waits.Count > 1 ? waits.Skip(1).ToList() : waits;
        var steadyTotals = totals.Count > 1 ? totals.Skip(1).ToList() : totals;
        double loaderAlone = CommandLine.Median(alone), step = CommandLine.Median(inMemory);
        double wait = CommandLine.Median(steadyWaits), total = CommandLine.Median(steadyTotals);
        Console.WriteLine("{" + string.Join(", ",
            $"\"batch\": {batch}", $"\"threads\": {threads}",
            $"\"dtype\": \"{CommandLine.DTypeName(dtype)}\"",
            $"\"loader_alone_s_per_batch\": {CommandLine.F(loaderAlone)}",
            $"\"loader_alone_images_per_s\": {CommandLine.F(batch / loaderAlone)}",
            $"\"step_in_memory_s\": {CommandLine.F(step)}",
            $"\"step_with_loader_s\": {CommandLine.F(total)}",
            $"\"wait_for_batch_s\": {CommandLine.F(wait)}",
            $"\"first_batch_wait_s\": {CommandLine.F(waits.FirstOrDefault(double.NaN))}",
            $"\"wait_share\": {CommandLine.F(wait / total)}",
            $"\"slowdown_share\": {CommandLine.F((total - step) / total)}",
            $"\"peak_rss_mib\": {CommandLine.F(ProcessMemory.PeakRssMiB() ?? double.NaN)}") + "}");
        return 0;
    }
}
