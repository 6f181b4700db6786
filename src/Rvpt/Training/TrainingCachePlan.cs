using Microsoft.Extensions.Logging;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Which per-sample caches a <see cref="FewShotTrainer.Fit"/> run keeps: <see cref="FrozenClassTokenCache"/> and
/// <see cref="SharedTrunkCache"/> when their options ask for them, augmentation is off (an augmented image differs every
/// epoch) and their full size fits in <see cref="TrainingOptions.CacheMemoryBudget"/>. The frozen class tokens are
/// planned first: they are about a fifth of the trunk's rows at the paper's D and save more work per byte. A cache
/// left out changes nothing but speed: both give bit-identical prompts.
/// </summary>
internal readonly record struct TrainingCachePlan(bool FrozenClassTokens, bool SharedTrunk)
{
    /// <summary>Plans the caches of a run over <paramref name="samples"/> samples and logs what was left out and why.</summary>
    public static TrainingCachePlan For(TrainingOptions options, DeepPromptInjector prompts, int samples, ILogger logger) =>
        For(options, prompts.Clip.Config.Vision, prompts.UnpromptedDepth, options.ComputeDType ?? prompts.ComputeDType, samples, logger);

    /// <summary>
    /// Plans the caches of a run over <paramref name="samples"/> samples of a <paramref name="vision"/> tower whose
    /// blocks D+1..L (<paramref name="depth"/> = D) are repelled, with rows in <paramref name="dtype"/>; logs what was
    /// left out and why. Full fine-tuning uses it for the frozen class tokens alone (its trunk trains).
    /// </summary>
    public static TrainingCachePlan For(TrainingOptions options, ClipVisionConfig vision, int depth, ScalarType dtype, int samples, ILogger logger)
    {
        if (options.Augment)
        {
            if (options.CacheFrozenClassTokens) NoEffect(nameof(TrainingOptions.CacheFrozenClassTokens));
            if (options.CacheSharedTrunk) NoEffect(nameof(TrainingOptions.CacheSharedTrunk));
            return new TrainingCachePlan(false, false);
        }

        long rowBytes = vision.Width * dtype.ElementSize(); // one token of one sample
        long frozenBytes = (long)samples * (vision.Layers - depth) * rowBytes;
        long trunkBytes = (long)samples * (1L + (long)vision.GridSize * vision.GridSize) * rowBytes;
        long left = options.CacheMemoryBudget;
        bool frozen = Fits(options.CacheFrozenClassTokens, frozenBytes, nameof(TrainingOptions.CacheFrozenClassTokens));
        bool trunk = Fits(options.CacheSharedTrunk, trunkBytes, nameof(TrainingOptions.CacheSharedTrunk));
        return new TrainingCachePlan(frozen, trunk);

        void NoEffect(string name) =>
            logger.LogDebug("{Option} has no effect with augmentation on: every epoch sees other crops.", name);

        bool Fits(bool wanted, long bytes, string name)
        {
            if (!wanted) return false;
            if (bytes <= left)
            {
                left -= bytes;
                return true;
            }
            logger.LogInformation(
                "{Option}: the cache would hold {Bytes:N0} bytes ({Samples} samples, {DType}), more than the {Left:N0} bytes left of TrainingOptions.CacheMemoryBudget ({Budget:N0}); training without it (same results, slower).",
                name, bytes, samples, dtype, left, options.CacheMemoryBudget);
            return false;
        }
    }
}
