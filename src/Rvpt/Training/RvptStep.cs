using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// One RVPT training step, the one <see cref="FewShotTrainer"/> runs for every batch and the benchmarks time
/// (<c>benchmarks/Rvpt.Benchmarks/RvptStepHarness.cs</c>), finite-value checks included. The data path reads top to
/// bottom: the batch's images arrive decoded, augmented and normalised (<see cref="BatchLoader"/>: float32 on the CPU),
/// are checked for NaN and infinity, and go to the model's device in the compute dtype once; then the shared trunk
/// (blocks 1..D, or its cached rows), the frozen branch (class tokens of blocks D+1..L, or their cached rows), the
/// prompted branch, <see cref="RepulsiveLoss"/> in float32, the backward into the prompts and the
/// <see cref="PromptSgd"/> (or <see cref="PromptAdamW"/>) update, all in one dispose scope.
/// </summary>
/// <remarks>
/// A step throws before the update when the loss or the gradient is not finite, and after it when the update made the
/// prompts non-finite (the prompts in memory are then unusable; <c>lastGoodState</c> says where the last good state
/// is). Prompt dropout is reseeded from (seed, epoch, step) before the prompted branch, so a step is reproducible on
/// its own, which makes a run resumable at any step.
/// </remarks>
internal sealed class RvptStep
{
    private readonly DeepPromptInjector _prompts;
    private readonly RepulsiveLoss _loss;
    private readonly Tensor _classText;
    private readonly IPromptOptimizer _optimizer;
    private readonly int _seed;
    private readonly SharedTrunkCache? _trunkCache;
    private readonly FrozenClassTokenCache? _frozenCache;
    private readonly Func<int, string> _describeSample;
    private readonly Func<string> _lastGoodState;

    /// <param name="prompts">The prompts, in the mode and compute dtype to train in.</param>
    /// <param name="loss">The objective.</param>
    /// <param name="classText">L2-normalised class text features <c>[classes, embedDim]</c> (not owned).</param>
    /// <param name="optimizer">The optimiser of <paramref name="prompts"/> (not owned).</param>
    /// <param name="seed">Seed of the prompt-dropout masks, mixed with the epoch and step.</param>
    /// <param name="trunkCache">Per-sample trunk outputs, or null to run the trunk every step (not owned).</param>
    /// <param name="frozenCache">Per-sample frozen class tokens, or null to run the frozen branch every step (not owned).</param>
    /// <param name="describeSample">Names a sample index in messages (the source's <see cref="ILabeledImageSource.Describe"/>).</param>
    /// <param name="lastGoodState">Says where the last good state is, for messages.</param>
    public RvptStep(DeepPromptInjector prompts, RepulsiveLoss loss, Tensor classText, IPromptOptimizer optimizer, long seed,
        SharedTrunkCache? trunkCache, FrozenClassTokenCache? frozenCache, Func<int, string> describeSample, Func<string> lastGoodState)
    {
        _prompts = prompts;
        _loss = loss;
        _classText = classText;
        _optimizer = optimizer;
        _seed = SeedMixer.To32(seed);
        _trunkCache = trunkCache;
        _frozenCache = frozenCache;
        _describeSample = describeSample;
        _lastGoodState = lastGoodState;
    }

    /// <summary>Runs the step on <paramref name="batch"/> (not disposed) as step <paramref name="step"/> of epoch <paramref name="epoch"/> (0-based).</summary>
    /// <exception cref="InvalidDataException">An input image holds NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The loss, the gradient or the updated prompts are not finite.</exception>
    public RvptStepResult Run(ImageBatch batch, int epoch, int step, double learningRate)
    {
        var where = $"epoch {epoch + 1}, step {step + 1}";
        var clip = _prompts.Clip;
        using var scope = NewDisposeScope();
        _prompts.SeedDropout(SeedMixer.Mix(SeedMixer.Mix(_seed, epoch), step)); // dropout masks per step
        CheckImages(batch, where);
        long trunkBefore = _trunkCache?.ImagesEncoded ?? 0, frozenBefore = _frozenCache?.ImagesEncoded ?? 0;

        var trunk = _trunkCache is null ? RunTrunk() : _trunkCache.GetOrCompute(batch.Indices, RunTrunk);
        var frozen = _frozenCache is null ? RunFrozen() : _frozenCache.GetOrCompute(batch.Indices, RunFrozen);
        var prompted = _prompts.RunPrompted(trunk);
        var result = _loss.Compute(prompted, frozen, _classText, batch.Labels.to(clip.Device), clip.LogitScale);

        // One read (one device synchronisation) for the three terms.
        var terms = stack(new[] { result.Total.detach(), result.CrossEntropy.detach(), result.Repelling.detach() })
            .to(ScalarType.Float32, CPU).data<float>().ToArray();
        double loss = terms[0], ce = terms[1], fr = terms[2];
        if (!double.IsFinite(loss))
            throw new InvalidOperationException(
                $"The loss became {loss} at {where} (cross-entropy {ce}, repelling {fr}, learning rate {learningRate}). {_lastGoodState()}" +
                " Lower the learning rate or check the inputs.");
        _optimizer.ZeroGrad();
        result.Total.backward();
        if (_prompts.Prompts.grad is not { } grad || !grad.isfinite().all().item<bool>())
            throw new InvalidOperationException(
                $"The prompts' gradient has NaN or infinite values at {where} (loss {loss}, learning rate {learningRate}). {_lastGoodState()}");
        _optimizer.Step(learningRate);
        if (!_prompts.Prompts.isfinite().all().item<bool>())
            throw new InvalidOperationException(
                $"The SGD update made the prompts NaN or infinite at {where} (loss {loss}, learning rate {learningRate}); the prompts in memory are unusable. {_lastGoodState()}" +
                " Lower the learning rate.");
        return new RvptStepResult(loss, ce, fr,
            TrunkImages: _trunkCache is null ? batch.Count : (int)(_trunkCache.ImagesEncoded - trunkBefore),
            FrozenImages: _frozenCache is null ? batch.Count : (int)(_frozenCache.ImagesEncoded - frozenBefore));

        // The images go to the device in the compute dtype once, and only when the trunk runs.
        Tensor RunTrunk() => _prompts.RunSharedTrunk(batch.Images.to(_prompts.ComputeDType, clip.Device));
        Tensor RunFrozen() => _prompts.RunFrozen(trunk);
    }

    private void CheckImages(ImageBatch batch, string where)
    {
        var finiteRows = batch.Images.isfinite().flatten(1).all(1).data<bool>().ToArray();
        if (!finiteRows.Contains(false)) return;
        var bad = Enumerable.Range(0, finiteRows.Length).Where(i => !finiteRows[i]).ToArray();
        throw new InvalidDataException(
            $"Training stopped at {where}: {bad.Length} input image(s) hold NaN or infinite values: " +
            string.Join(", ", bad.Take(5).Select(i => _describeSample(batch.Indices[i]))) + (bad.Length > 5 ? ", ..." : "") +
            $". {_lastGoodState()}");
    }
}
