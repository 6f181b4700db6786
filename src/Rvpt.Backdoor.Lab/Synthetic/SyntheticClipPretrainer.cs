using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// Pre-trains a CLIP from scratch on a <see cref="SyntheticWorld"/>: CLIP's symmetric contrastive loss on the image
/// captions plus a label-text term, the cross-entropy of each image against the text embeddings of every class prompt
/// ("a photo of a {class}."), as in UniCL (Yang et al. 2022). Both towers and <c>logit_scale</c> train, with AdamW and
/// CLIP training code's weight-decay rule (none on gains, biases and <c>logit_scale</c>; see
/// <see cref="SyntheticPretrainingOptions.DecayGainsAndBiases"/>). Plain
/// contrastive training learns colours and backgrounds first and the shapes only slowly (about 30% zero-shot after
/// three epochs where this recipe reaches about 60%); the label term makes a competent model affordable on a CPU
/// while the caption term still makes it encode the non-class attributes RVPT's premise relies on.
/// Deterministic for a given seed, thread count and device. Every step runs in its own dispose scope.
/// </summary>
public sealed class SyntheticClipPretrainer
{
    private readonly SyntheticWorld _world;
    private readonly ILogger _logger;

    /// <summary>Creates a pre-trainer for <paramref name="world"/>.</summary>
    public SyntheticClipPretrainer(SyntheticWorld world, SyntheticPretrainingOptions? options = null, ILogger? logger = null)
    {
        _world = world ?? throw new ArgumentNullException(nameof(world));
        Options = options ?? new SyntheticPretrainingOptions();
        Options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The settings.</summary>
    public SyntheticPretrainingOptions Options { get; }

    /// <summary>
    /// Trains <paramref name="clip"/> in place (it needs a tokenizer that covers the world's vocabulary, see
    /// <see cref="SyntheticClip.CreateTokenizer"/>) and returns the mean loss of the last epoch. The model is left in
    /// eval mode with all weights frozen.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no tokenizer or its image size differs from the world's.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite (names the epoch and step).</exception>
    public double Train(ClipModel clip, IProgress<FineTuningProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clip);
        CheckModel(clip);
        var o = Options;
        long seed = SyntheticWorld.SplitSeed(o.WorldSeed, SyntheticSplit.Train);
        var samples = new SyntheticSample[o.Pairs];
        Parallel.For(0, o.Pairs, i => samples[i] = _world.Describe(seed, i));

        // The whole training set is rendered once and kept as normalised pixels on the model's device: the world is
        // small (24K x 3 x 32 x 32 floats = 295 MB) and rendering every epoch would cost more than the steps.
        using var pixels = Normalized(clip, o.Pairs, (start, n) => _world.RenderBatch(seed, start, n), cancellationToken);
        return Fit(clip, pixels, samples.Select(s => s.Caption).ToList(), samples.Select(s => s.ClassIndex).ToList(), progress, cancellationToken);
    }

    /// <summary>
    /// Trains <paramref name="clip"/> in place with the same objective on given pairs, e.g. a poisoned set whose
    /// poisoned captions name the target class: <paramref name="labels"/> are the classes the captions name (the
    /// target class for poisoned pairs), indices into the world's class names. <see cref="SyntheticPretrainingOptions.Pairs"/>
    /// and <see cref="SyntheticPretrainingOptions.WorldSeed"/> are not used. Images are loaded once (at the model's size).
    /// </summary>
    /// <exception cref="ArgumentException">Labels and pairs differ in number, a label is out of range, or the model does not fit the world.</exception>
    public double Train(ClipModel clip, IImageCaptionSource pairs, IReadOnlyList<int> labels, IProgress<FineTuningProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(labels);
        CheckModel(clip);
        if (labels.Count != pairs.Count)
            throw new ArgumentException($"{labels.Count} labels for {pairs.Count} pairs; one label per pair is needed.", nameof(labels));
        int bad = labels.ToList().FindIndex(l => l < 0 || l >= _world.ClassNames.Count);
        if (bad >= 0)
            throw new ArgumentException($"Label {labels[bad]} of pair {bad} is not a class index of the world (0..{_world.ClassNames.Count - 1}).", nameof(labels));
        if (Options.BatchSize > pairs.Count)
            throw new ArgumentException($"BatchSize {Options.BatchSize} exceeds the {pairs.Count} pairs.", nameof(pairs));
        var transform = new ClipEvalTransform(clip.ImageProcessor);
        using var pixels = Normalized(clip, pairs.Count,
            (start, n) => Pixels01Batch.Load(pairs.LoadPixels01, Pixels01Batch.Range(start, n), transform, cancellationToken), cancellationToken);
        var captions = Enumerable.Range(0, pairs.Count).Select(pairs.GetCaption).ToList();
        return Fit(clip, pixels, captions, labels, progress, cancellationToken);
    }

    private void CheckModel(ClipModel clip)
    {
        if (clip.Tokenizer is null) throw new ArgumentException("The model needs a tokenizer to encode captions.", nameof(clip));
        if (clip.Config.Vision.ImageSize != _world.ImageSize)
            throw new ArgumentException($"The model takes {clip.Config.Vision.ImageSize} px images but the world renders {_world.ImageSize} px.", nameof(clip));
    }

    private double Fit(ClipModel clip, Tensor pixels, IReadOnlyList<string> captionTexts, IReadOnlyList<int> classLabels,
        IProgress<FineTuningProgress>? progress, CancellationToken cancellationToken)
    {
        var o = Options;
        var tokenizer = clip.Tokenizer!;
        int count = captionTexts.Count;
        int context = clip.Config.Text.ContextLength;
        using var captions = tokenizer.EncodeBatch(captionTexts, context, device: clip.Device);
        using var labels = torch.tensor(classLabels.Select(l => (long)l).ToArray(), device: clip.Device);
        using var classPrompts = tokenizer.EncodeBatch(
            _world.ClassNames.Select(c => PromptTemplates.Format(o.ClassPromptTemplate, c)).ToList(), context, device: clip.Device);

        clip.SetTrainable(true);
        using var optimizer = optim.AdamW(ClipWeightDecay.Groups(clip.named_parameters(), o.WeightDecay, o.DecayGainsAndBiases),
            o.LearningRate, 0.9, 0.98, 1e-6);
        int stepsPerEpoch = count / o.BatchSize; // the ragged tail is dropped: every step sees a full contrastive batch
        int totalSteps = stepsPerEpoch * o.Epochs, step = 0;
        var shuffle = new Generator(unchecked((ulong)o.Seed * 0x9E3779B97F4A7C15UL + 1), CPU);
        double epochLoss = double.NaN;
        clip.train();
        try
        {
            for (int epoch = 0; epoch < o.Epochs; epoch++)
            {
                using var order = randperm(count, generator: shuffle).to(clip.Device);
                double sum = 0;
                for (int b = 0; b < stepsPerEpoch; b++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    double lr = LearningRateAt(step, totalSteps);
                    foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                    double loss;
                    using (NewDisposeScope())
                    {
                        var idx = order.narrow(0, (long)b * o.BatchSize, o.BatchSize);
                        var total = Loss(clip, pixels.index_select(0, idx), captions.index_select(0, idx), classPrompts,
                            labels.index_select(0, idx), o.ClassPromptWeight);
                        loss = total.item<float>();
                        if (!double.IsFinite(loss))
                            throw new InvalidOperationException($"The training loss became {loss} at epoch {epoch + 1}, step {step + 1} (learning rate {lr}).");
                        optimizer.zero_grad();
                        total.backward();
                        optimizer.step();
                        using (no_grad()) clip.LogitScale.clamp_(0, o.MaxLogitScale);
                    }
                    step++;
                    sum += loss;
                    progress?.Report(new FineTuningProgress(epoch + 1, o.Epochs, step, totalSteps, loss, lr));
                }
                epochLoss = sum / stepsPerEpoch;
                _logger.LogInformation("Synthetic CLIP training epoch {Epoch}/{Epochs}: loss {Loss:F4}", epoch + 1, o.Epochs, epochLoss);
            }
        }
        finally
        {
            clip.SetTrainable(false);
            clip.eval();
        }
        return epochLoss;
    }

    /// <summary>The learning rate at (0-based) <paramref name="step"/> of <paramref name="totalSteps"/>: linear warm-up, then cosine to 0.</summary>
    public double LearningRateAt(int step, int totalSteps) =>
        LearningRateSchedule.LinearWarmupCosine(step, Math.Min(Options.WarmupSteps, totalSteps / 2), Options.LearningRate, totalSteps);

    /// <summary>
    /// The recipe's loss for one batch: CLIP's symmetric InfoNCE over (image, caption) pairs plus
    /// <paramref name="classPromptWeight"/> times the cross-entropy of the images' logits against the class prompts.
    /// </summary>
    public static Tensor Loss(ClipModel clip, Tensor pixels, Tensor captionIds, Tensor classPromptIds, Tensor labels, double classPromptWeight)
    {
        ArgumentNullException.ThrowIfNull(clip);
        using var scope = NewDisposeScope();
        var image = ClipModel.Normalize(clip.EncodeImage(pixels)).to_type(ScalarType.Float32);
        var text = ClipModel.Normalize(clip.EncodeText(captionIds)).to_type(ScalarType.Float32);
        var scale = clip.LogitScale.to_type(ScalarType.Float32).exp();
        var loss = InfoNceLoss.Compute(image, text, scale);
        if (classPromptWeight > 0)
        {
            var classes = ClipModel.Normalize(clip.EncodeText(classPromptIds)).to_type(ScalarType.Float32);
            loss = loss + classPromptWeight * nn.functional.cross_entropy(scale * image.matmul(classes.t()), labels);
        }
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Normalised pixels of <paramref name="count"/> images on the model's device and dtype, built in chunks from
    /// <paramref name="loadPixels01"/> (start, count) -> <c>[n, 3, S, S]</c> in [0, 1], so at most one chunk of [0, 1]
    /// images exists at a time.
    /// </summary>
    private static Tensor Normalized(ClipModel clip, int count, Func<int, int, Tensor> loadPixels01, CancellationToken cancellationToken)
    {
        const int chunk = 2048;
        var parts = new List<Tensor>();
        try
        {
            for (int start = 0; start < count; start += chunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var pixels01 = loadPixels01(start, Math.Min(chunk, count - start));
                parts.Add(clip.ImageProcessor.Normalize(pixels01).to(clip.DType, clip.Device).MoveToOuterDisposeScope());
            }
            return cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }
}
