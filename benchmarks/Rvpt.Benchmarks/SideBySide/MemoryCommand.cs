using TorchSharp;

namespace Rvpt.Benchmarks;

/// <summary>
/// <c>memory</c> console mode: runs many RVPT steps and prints one JSON line with the RSS after each step, the live
/// tensor count after each step (constant when every step frees what it makes) and the peak RSS, to compare
/// allocator settings (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES, LD_PRELOAD of jemalloc) set in the
/// environment of the command.
/// The step variant switches of the <c>step</c> mode apply (<c>--cache-trunk</c>, <c>--cache-frozen</c>,
/// <c>--class-token-last-block</c>).
/// <code>Rvpt.Benchmarks memory --batch 8 --threads 2 --steps 30 --dtype float32|bfloat16 [--cache-trunk] [--cache-frozen] [--class-token-last-block] [--skip-prompt-outputs]</code>
/// </summary>
public static class MemoryCommand
{
    /// <summary>Runs the mode.</summary>
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        int batch = cl.Int("batch", 8), threads = cl.Int("threads", Environment.ProcessorCount), steps = cl.Int("steps", 30);
        var dtype = cl.DType();
        torch.set_num_threads(threads);
        using var harness = cl.Harness(cl.Device(), dtype, samples: batch);
        using var images = harness.RandomBatch(batch);
        var rss = new List<double>();
        var live = new List<long>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            harness.Step(images);
            rss.Add(ProcessMemory.RssMiB() ?? double.NaN);
            live.Add(torch.Tensor.TotalCount);
        }
        Console.WriteLine("{" + string.Join(", ",
            $"\"batch\": {batch}", $"\"threads\": {threads}", $"\"steps\": {steps}",
            $"\"dtype\": \"{CommandLine.DTypeName(dtype)}\"",
            $"\"what\": \"step{cl.StepVariant()}\"",
            $"\"malloc_env\": \"{Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX")}|{Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_")}|{Environment.GetEnvironmentVariable("GLIBC_TUNABLES")}|{Environment.GetEnvironmentVariable("LD_PRELOAD")}\"",
            $"\"mean_step_s\": {CommandLine.F(clock.Elapsed.TotalSeconds / steps)}",
            $"\"rss_after_step_10_mib\": {CommandLine.F(rss.Count >= 10 ? Math.Round(rss[9]) : double.NaN)}",
            $"\"rss_after_last_step_mib\": {CommandLine.F(rss.Count > 0 ? Math.Round(rss[^1]) : double.NaN)}",
            $"\"rss_mib\": [{string.Join(", ", rss.Select(r => CommandLine.F(Math.Round(r))))}]",
            $"\"live_tensors\": [{string.Join(", ", live.Distinct())}]",
            $"\"peak_rss_mib\": {CommandLine.F(ProcessMemory.PeakRssMiB() ?? double.NaN)}") + "}");
        return 0;
    }
}
