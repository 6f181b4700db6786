using System.Diagnostics;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// <c>epoch</c> console mode: trains with <see cref="FewShotTrainer.Fit"/> itself — loader, step, progress — on a
/// generated few-shot set of <c>shots x classes</c> images (<see cref="GeneratedImageSource"/>) with a random-weight
/// ViT-B/32 (D = 3, b = 50, alpha = 2, SGD), and prints one JSON line with the wall time of every epoch, the mean of
/// the epochs after the first (the steady state: from the second epoch on the caches are full), the trunk and frozen
/// images encoded, and the peak RSS. <c>benchmarks/reference/rvpt_step.py --what epoch</c> is the PyTorch side.
/// <code>Rvpt.Benchmarks epoch --classes 100 --shots 16 --epochs 2 --batch 32 --threads 2 --dtype float32|bfloat16 [--augment] [--cache] [--class-token-last-block] [--skip-prompt-outputs] [--image-size 224]</code>
/// <c>--cache</c> turns on both per-sample caches (<see cref="TrainingOptions.CacheSharedTrunk"/> and
/// <see cref="TrainingOptions.CacheFrozenClassTokens"/>; they act only without <c>--augment</c>).
/// </summary>
public static class EpochCommand
{
    /// <summary>Runs the mode.</summary>
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        int classes = cl.Int("classes", 100), shots = cl.Int("shots", 16), epochs = cl.Int("epochs", 2);
        int batch = cl.Int("batch", 32), threads = cl.Int("threads", Environment.ProcessorCount), size = cl.Int("image-size", 224);
        bool augment = cl.Flag("augment"), cache = cl.Flag("cache"), lastBlock = cl.Flag("class-token-last-block"), skip = cl.Flag("skip-prompt-outputs");
        var dtype = cl.DType();
        var device = cl.Device();
        torch.set_num_threads(threads);

        using var clip = ClipModel.Create(ClipConfig.ViTB32, seed: 0, device: device);
        using var prompts = DeepPromptInjector.For(clip).FromBlock(3).Tokens(50).Seed(0).Build();
        prompts.ClassTokenOnlyLastBlock = lastBlock;
        prompts.SkipReplacedPromptOutputs = skip;
        var data = new GeneratedImageSource(classes, shots, size);
        var builder = FewShotTrainer.For(clip, prompts).WithLoss(new RepulsiveLoss(2.0)).WithClasses(data.ClassNames)
            .Epochs(epochs).BatchSize(batch).Warmup(epochs: Math.Min(1, epochs - 1)).Augment(augment)
            .CacheSharedTrunk(cache).CacheFrozenClassTokens(cache).Seed(1);
        if (dtype != ScalarType.Float32) builder.MixedPrecision(dtype);
        var progress = new EpochClock(Math.Min(batch, data.Count));
        var summary = builder.Build().Fit(data, progress);

        var times = progress.EpochSeconds;
        var steady = times.Count > 1 ? times.Skip(1).Average() : times[0];
        Console.WriteLine("{" + string.Join(", ",
            $"\"framework\": \"{CommandLine.Framework}\"",
            $"\"what\": \"epoch{(augment ? " augmented" : "")}{(cache ? " (trunk and frozen branch cached)" : "")}{(lastBlock ? " (class-token-only last block)" : "")}{(skip ? " (prompt outputs skipped)" : "")}\"",
            $"\"dtype\": \"{CommandLine.DTypeName(dtype)}\"",
            $"\"classes\": {classes}", $"\"shots\": {shots}", $"\"images\": {data.Count}", $"\"batch\": {batch}",
            $"\"steps_per_epoch\": {progress.StepsPerEpoch}", $"\"threads\": {threads}",
            $"\"device\": \"{device.type.ToString().ToLowerInvariant()}\"",
            $"\"augment\": {(augment ? "true" : "false")}",
            $"\"epoch_s\": [{string.Join(", ", times.Select(CommandLine.F))}]",
            $"\"epoch_after_first_s\": {CommandLine.F(steady)}",
            $"\"step_after_first_s\": {CommandLine.F(steady / progress.StepsPerEpoch)}",
            $"\"trunk_images_encoded\": {summary.SharedTrunkImagesEncoded}",
            $"\"frozen_images_encoded\": {summary.FrozenImagesEncoded}",
            $"\"final_loss\": {CommandLine.F(summary.FinalLoss)}",
            $"\"peak_rss_mib\": {CommandLine.F(ProcessMemory.PeakRssMiB() ?? double.NaN)}") + "}");
        return 0;
    }

    /// <summary>
    /// Wall time of each epoch from the (synchronous) progress reports: an epoch ends at its last step's report; the
    /// first starts one step before its first report (that step's duration from its images/s), so the class text
    /// features computed before it are not counted.
    /// </summary>
    private sealed class EpochClock(int firstBatchImages) : IProgress<TrainingProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private double _epochStart = double.NaN;

        public List<double> EpochSeconds { get; } = new();

        public int StepsPerEpoch { get; private set; }

        public void Report(TrainingProgress value)
        {
            double now = _clock.Elapsed.TotalSeconds;
            StepsPerEpoch = value.StepsPerEpoch;
            if (double.IsNaN(_epochStart)) _epochStart = now - (value.ImagesPerSecond > 0 ? firstBatchImages / value.ImagesPerSecond : 0);
            if (value.Step < value.StepsPerEpoch) return;
            EpochSeconds.Add(now - _epochStart);
            _epochStart = now;
        }
    }
}
