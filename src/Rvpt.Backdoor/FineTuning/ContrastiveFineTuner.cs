using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rvpt.Clip;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Fine-tunes CLIP on image-caption pairs with its symmetric contrastive loss
/// (<c>(CE(logits_per_image, i) + CE(logits_per_text, i)) / 2</c> over the batch), AdamW and a per-step cosine
/// schedule with optional linear warm-up. Used to plant backdoors with poisoned pairs (the paper: lr 1e-6, 5 epochs,
/// batch 128) and as the basis of the CleanCLIP baseline. Every step runs in its own dispose scope.
/// </summary>
public sealed class ContrastiveFineTuner
{
    private readonly ClipModel _clip;
    private readonly ILogger _logger;

    /// <summary>Creates a fine-tuner for <paramref name="clip"/> (which must have a tokenizer).</summary>
    public ContrastiveFineTuner(ClipModel clip, ContrastiveFineTuningOptions? options = null, ILogger? logger = null)
    {
        _clip = clip ?? throw new ArgumentNullException(nameof(clip));
        if (clip.Tokenizer is null) throw new ArgumentException("The model needs a tokenizer to encode captions.", nameof(clip));
        Options = options ?? new ContrastiveFineTuningOptions();
        Options.Validate();
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The settings.</summary>
    public ContrastiveFineTuningOptions Options { get; }

    /// <summary>The learning rate at (0-based) global <paramref name="step"/> of <paramref name="totalSteps"/>.</summary>
    public double LearningRateAt(int step, int totalSteps) =>
        LearningRateSchedule.LinearWarmupCosine(step, Options.WarmupSteps, Options.LearningRate, totalSteps);

    /// <summary>
    /// Fine-tunes in place on <paramref name="pairs"/> (images are resized and centre-cropped to the model's size,
    /// no augmentation). Returns the mean loss of the last epoch. The model is left in eval mode with the chosen
    /// towers' <c>requires_grad</c> restored to false.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    public double Fit(IImageCaptionSource pairs, IProgress<FineTuningProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count < 2) throw new ArgumentException("At least 2 pairs are needed for a contrastive loss.", nameof(pairs));
        var trainable = ClipTowerParameters.SelectNamed(_clip, Options.Trainable).ToList();
        _clip.SetTrainable(false);
        foreach (var (_, p) in trainable) p.requires_grad = true;
        var optimizer = optim.AdamW(ClipWeightDecay.Groups(trainable, Options.WeightDecay, Options.DecayGainsAndBiases),
            Options.LearningRate, Options.Beta1, Options.Beta2, Options.Epsilon);
        var transform = new ClipEvalTransform(_clip.ImageProcessor);
        int stepsPerEpoch = (pairs.Count + Options.BatchSize - 1) / Options.BatchSize;
        int totalSteps = stepsPerEpoch * Options.Epochs;
        int step = 0;
        double epochLoss = double.NaN;
        _clip.train();
        try
        {
            for (int epoch = 0; epoch < Options.Epochs; epoch++)
            {
                var order = Enumerable.Range(0, pairs.Count).ToArray();
                new Random(SeedMixer.Offset32(SeedMixer.To32(Options.Seed), epoch)).Shuffle(order);
                double sum = 0;
                int batches = 0;
                for (int start = 0; start < order.Length; start += Options.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var idx = order.AsSpan(start, Math.Min(Options.BatchSize, order.Length - start)).ToArray();
                    if (idx.Length < 2) continue; // a lone pair has no negatives
                    double lr = LearningRateAt(step, totalSteps);
                    foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                    double loss;
                    using (var scope = NewDisposeScope())
                    {
                        var images = _clip.ImageProcessor.Normalize(Pixels01Batch.Load(pairs.LoadPixels01, idx, transform, cancellationToken)).to(_clip.DType, _clip.Device);
                        var ids = _clip.Tokenizer!.EncodeBatch(idx.Select(pairs.GetCaption).ToList(), _clip.Config.Text.ContextLength, device: _clip.Device);
                        var total = ContrastiveLoss(_clip, images, ids);
                        loss = total.item<float>();
                        if (!double.IsFinite(loss))
                            throw new InvalidOperationException($"The contrastive loss became {loss} at epoch {epoch + 1}, step {step + 1} (learning rate {lr}).");
                        optimizer.zero_grad();
                        total.backward();
                        optimizer.step();
                    }
                    step++;
                    batches++;
                    sum += loss;
                    progress?.Report(new FineTuningProgress(epoch + 1, Options.Epochs, step, totalSteps, loss, lr));
                }
                epochLoss = sum / Math.Max(1, batches);
                _logger.LogInformation("Contrastive fine-tuning epoch {Epoch}/{Epochs}: loss {Loss:F4}", epoch + 1, Options.Epochs, epochLoss);
            }
        }
        finally
        {
            _clip.SetTrainable(false);
            _clip.eval();
            optimizer.Dispose();
        }
        return epochLoss;
    }

    /// <summary>
    /// CLIP's symmetric InfoNCE loss for matching image/text batches: <c>[N, 3, S, S]</c> normalised pixels and
    /// <c>[N, T]</c> token ids; pair i is the positive of row i.
    /// </summary>
    public static Tensor ContrastiveLoss(ClipModel clip, Tensor pixels, Tensor ids)
    {
        using var scope = NewDisposeScope();
        var image = ClipModel.Normalize(clip.EncodeImage(pixels)).to_type(ScalarType.Float32);
        var text = ClipModel.Normalize(clip.EncodeText(ids)).to_type(ScalarType.Float32);
        return InfoNceLoss.Compute(image, text, clip.LogitScale.to_type(ScalarType.Float32).exp()).MoveToOuterDisposeScope();
    }
}
