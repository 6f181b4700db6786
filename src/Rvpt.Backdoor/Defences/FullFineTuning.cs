using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// The full fine-tuning baseline of the paper's Table 8: a copy of the model whose whole image encoder is trained on the
/// few shots with cross-entropy on its zero-shot logits against the frozen class-prompt embeddings, plus, with
/// <see cref="FullFineTuningOptions.Alpha"/> &gt; 0, RVPT's repelling term between the copy's class tokens and the
/// original encoder's after blocks D+1..L (<see cref="RepulsiveLoss"/>, the same objective as RVPT with the encoder's
/// weights in place of prompts). The text tower and <c>logit_scale</c> stay frozen; the original model is not modified.
/// </summary>
public static class FullFineTuning
{
    /// <summary>
    /// Trains and returns a fine-tuned copy of <paramref name="model"/> (the caller disposes it). Every step runs in its
    /// own dispose scope and checks its loss for NaN or infinity. With augmentation off the reference encoder's class
    /// tokens of each shot are computed once and kept (<see cref="TrainingOptions.CacheFrozenClassTokens"/>, within
    /// <see cref="TrainingOptions.CacheMemoryBudget"/>), which gives the same weights with less work.
    /// </summary>
    /// <param name="model">The model to defend; it needs a tokenizer. Not modified; its image encoder is the frozen reference.</param>
    /// <param name="shots">The labelled few-shot set; its class names are the classes of the logits.</param>
    /// <param name="templates">Templates of the class prompts, <c>{}</c> = class name.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="logger">Receives a line per epoch; null for none.</param>
    /// <param name="progress">Receives a report after every step.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <exception cref="ArgumentException">The set is empty, or D is not below the tower's depth.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (names the epoch and step).</exception>
    public static ClipModel Train(ClipModel model, ILabeledImageSource shots, IReadOnlyList<string> templates, FullFineTuningOptions? options = null,
        ILogger? logger = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(shots);
        ArgumentNullException.ThrowIfNull(templates);
        options = options ?? new FullFineTuningOptions();
        options.Validate();
        logger ??= NullLogger.Instance;
        if (shots.Count == 0) throw new ArgumentException("The training set is empty.", nameof(shots));
        int layers = model.Config.Vision.Layers, depth = options.UnrepelledDepth;
        if (depth >= layers)
            throw new ArgumentException($"UnrepelledDepth {depth} leaves no block to repel in a {layers}-block image tower.", nameof(options));

        var o = options.Training;
        var loss = new RepulsiveLoss(options.Alpha);
        using var classifier = ZeroShotClassifier.Create(model, shots.ClassNames, templates);
        var text = classifier.ClassEmbeddings;
        var schedule = new CosineWarmupSchedule(o);
        // Every image in every epoch: full fine-tuning has always kept the incomplete last batch.
        var loader = new BatchLoader(shots, model.ImageProcessor, o.LoaderOptions(shots.Count) with { DropLast = false });
        // Without augmentation the reference encoder's class tokens of a shot never change: keep them after its first
        // step, as prompt training does (TrainingOptions.CacheFrozenClassTokens, within CacheMemoryBudget); same results.
        var plan = TrainingCachePlan.For(o with { CacheSharedTrunk = false }, model.Config.Vision, depth, model.DType, shots.Count, logger);
        using var frozenCache = plan.FrozenClassTokens ? new FrozenClassTokenCache(shots.Count) : null;
        var copy = model.Clone();
        try
        {
            copy.SetTrainable(false);
            var parameters = copy.Visual.parameters().ToList();
            foreach (var p in parameters) p.requires_grad = true;
            using var optimizer = CreateOptimizer(parameters, o);
            model.eval();
            copy.train();
            for (int epoch = 0; epoch < o.Epochs; epoch++)
            {
                double lr = schedule.LearningRateAt(epoch);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                double sum = 0;
                int step = 0;
                foreach (var batch in loader.Epoch(epoch, cancellationToken))
                {
                    using var batchScope = batch;
                    cancellationToken.ThrowIfCancellationRequested();
                    var clock = Stopwatch.StartNew();
                    double l, ce, fr;
                    using (NewDisposeScope())
                    {
                        var images = batch.Images.to(model.DType, model.Device);
                        var labels = batch.Labels.to(model.Device);
                        Tensor RunFrozen()
                        {
                            using (no_grad())
                            using (var reference = model.Visual.Encode(images))
                                return RepelledTokens(reference, depth).detach();
                        }
                        var frozen = frozenCache is null ? RunFrozen() : frozenCache.GetOrCompute(batch.Indices, RunFrozen);
                        using var tuned = copy.Visual.Encode(images);
                        var result = loss.Compute(new PromptedOutput(tuned.ImageEmbeds, RepelledTokens(tuned, depth)), frozen, text, labels, copy.LogitScale);
                        var terms = stack(new[] { result.Total.detach(), result.CrossEntropy.detach(), result.Repelling.detach() })
                            .to(ScalarType.Float32, CPU).data<float>().ToArray();
                        (l, ce, fr) = (terms[0], terms[1], terms[2]);
                        if (!double.IsFinite(l))
                            throw new InvalidOperationException($"The fine-tuning loss became {l} at epoch {epoch + 1}, step {step + 1} (learning rate {lr}). Lower the learning rate.");
                        optimizer.zero_grad();
                        result.Total.backward();
                        optimizer.step();
                    }
                    step++;
                    sum += l;
                    progress?.Report(new TrainingProgress(epoch + 1, o.Epochs, step, loader.BatchesPerEpoch, l, ce, fr, lr,
                        batch.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
                }
                logger.LogInformation("Full fine-tuning epoch {Epoch}/{Epochs}: loss {Loss:F4}, lr {Lr:G3}", epoch + 1, o.Epochs, sum / Math.Max(1, step), lr);
            }
            copy.SetTrainable(false);
            copy.eval();
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>The options' optimiser over the encoder's weights: SGD with momentum, or AdamW with decoupled weight decay.</summary>
    private static optim.Optimizer CreateOptimizer(IList<TorchSharp.Modules.Parameter> parameters, TrainingOptions o) => o.Optimizer switch
    {
        PromptOptimizer.AdamW => optim.AdamW(parameters, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay),
        _ => optim.SGD(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay),
    };

    /// <summary>Class tokens after blocks D+1..L, <c>[N, L - D, width]</c>.</summary>
    private static Tensor RepelledTokens(ClipVisionOutput output, int depth) =>
        stack(output.ClassTokens.Skip(depth).ToArray(), 1);
}
