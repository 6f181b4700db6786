using System.Diagnostics;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// <c>step</c> console mode: times the RVPT step (or, with <c>--what forward</c>, the plain ViT-B/32 forward) outside
/// BenchmarkDotNet, the same way <c>benchmarks/reference/rvpt_step.py</c> times PyTorch, and prints one JSON line:
/// per-step times, median, images/s, peak RSS, and the analytic FLOPs and achieved GFLOP/s.
/// The step is the trainer's own (<see cref="RvptStepHarness"/>). <c>--cache-frozen</c> and <c>--cache-trunk</c> time it
/// with the frozen-branch and shared-trunk caches filled (the same samples every step, as in the second and later
/// epochs without augmentation); <c>--class-token-last-block</c> with the class-token-only last block;
/// <c>--skip-prompt-outputs</c> with the prompted blocks skipping the prompts' own outputs.
/// <code>Rvpt.Benchmarks step --what step|forward --batch 32 --threads 2 --dtype float32|bfloat16 --steps 5 --warmup 1 [--cache-frozen] [--cache-trunk] [--class-token-last-block] [--skip-prompt-outputs] [--device cuda]</code>
/// </summary>
public static class StepCommand
{
    /// <summary>Runs the mode.</summary>
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        var what = cl.Get("what", "step");
        int batch = cl.Int("batch", 32), threads = cl.Int("threads", Environment.ProcessorCount);
        int steps = cl.Int("steps", 5), warmup = cl.Int("warmup", 1);
        var dtype = cl.DType();
        var device = cl.Device();
        torch.set_num_threads(threads);
        torch.manual_seed(0);

        var times = new List<double>();
        double flops;
        if (what == "forward")
        {
            using var clip = ClipModel.Create(ClipConfig.ViTB32, seed: 0, device: device, dtype: dtype);
            using var g = new Generator(7, CPU);
            using var images = randn(new long[] { batch, 3, 224, 224 }, generator: g).to(dtype, device);
            for (int i = 0; i < warmup + steps; i++)
            {
                var clock = Stopwatch.StartNew();
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    clip.EncodeImage(images);
                    BenchParameters.Synchronize(device);
                }
                if (i >= warmup) times.Add(clock.Elapsed.TotalSeconds);
            }
            flops = StepFlops.Forward(ClipConfig.ViTB32, batch);
        }
        else if (what == "step")
        {
            using var harness = cl.Harness(device, dtype, samples: batch);
            if (cl.Flag("cache-frozen") || cl.Flag("cache-trunk")) warmup = Math.Max(warmup, 1); // the first step fills the caches
            using var images = harness.RandomBatch(batch);
            for (int i = 0; i < warmup + steps; i++)
            {
                var clock = Stopwatch.StartNew();
                harness.Step(images); // reads the loss: waits for the device
                if (i >= warmup) times.Add(clock.Elapsed.TotalSeconds);
            }
            flops = StepFlops.RvptStep(ClipConfig.ViTB32, batch, depth: 3, promptTokens: 50, classes: 1000);
        }
        else throw new ArgumentException($"--what {what}: expected step or forward.");

        double median = CommandLine.Median(times);
        Console.WriteLine("{" + string.Join(", ",
            $"\"framework\": \"{CommandLine.Framework}\"",
            $"\"what\": \"{what}{(what == "step" ? cl.StepVariant() : "")}\"",
            $"\"dtype\": \"{CommandLine.DTypeName(dtype)}\"",
            $"\"batch\": {batch}",
            $"\"threads\": {threads}",
            $"\"device\": \"{device.type.ToString().ToLowerInvariant()}\"",
            $"\"times_s\": [{string.Join(", ", times.Select(CommandLine.F))}]",
            $"\"median_s\": {CommandLine.F(median)}",
            $"\"images_per_s\": {CommandLine.F(batch / median)}",
            $"\"gflop\": {CommandLine.F(flops / 1e9)}",
            $"\"gflop_per_s\": {CommandLine.F(flops / 1e9 / median)}",
            $"\"peak_rss_mib\": {CommandLine.F(ProcessMemory.PeakRssMiB() ?? double.NaN)}") + "}");
        return 0;
    }
}
