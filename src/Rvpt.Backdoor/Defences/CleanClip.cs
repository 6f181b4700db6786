using Microsoft.Extensions.Logging;
using Rvpt.Clip;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>Mean losses of the last epoch of a <see cref="CleanClip"/> run.</summary>
/// <param name="Total">Weighted total <c>lambda1 * Multimodal + lambda2 * (ImageInModality + TextInModality) / 2</c>.</param>
/// <param name="Multimodal">Symmetric image-caption InfoNCE.</param>
/// <param name="ImageInModality">Image-image InfoNCE between the plain and augmented image views (<see cref="CleanClip.InModalityLoss"/>).</param>
/// <param name="TextInModality">Text-text InfoNCE between the plain and augmented caption views.</param>
public sealed record CleanClipLosses(double Total, double Multimodal, double ImageInModality, double TextInModality);

/// <summary>
/// The CleanCLIP baseline defence (Bansal et al., ICCV 2023): fine-tunes the whole CLIP on clean image-caption pairs
/// with the multimodal contrastive loss plus in-modality self-supervision, which weakens the spurious
/// trigger-to-target association a poisoned CLIP has learnt.
/// </summary>
/// <remarks>
/// For each pair there are two image views, the plain one (resized and centre-cropped, as in
/// <see cref="ContrastiveFineTuner"/>) and an augmented one, and two caption views, the plain caption and
/// <see cref="CaptionAugmentation"/> of it. The augmented image view is, by default, CleanCLIP's code
/// (<c>utils/augment_image.py</c>, <c>src/data.py</c>): <see cref="AutoAugment"/> (torchvision's <c>AutoAugment()</c>,
/// ImageNet policy) on the pair's [0, 1] pixels at their stored size, then the plain view's resize and centre crop;
/// <see cref="CleanClipOptions.AugmentedImageView"/> = <see cref="CleanClipImageView.RandomResizedCropFlip"/> uses
/// <see cref="CoOpAugmentation"/> (random resized crop and horizontal flip) instead.
/// The loss of a step is CleanCLIP's code (<c>src/train.py</c>, <c>get_loss</c> with <c>--inmodal</c>):
/// <c>lambda1 * (CE(L_it) + CE(L_ti)) / 2 + lambda2 * (CE(L_ii') + CE(L_tt')) / 2</c> over the batch with the model's
/// logit scale and the positives on the diagonal; the multimodal term is symmetric, each in-modality term one direction
/// (rows: the plain view, columns: the augmented view), and the two in-modality terms are averaged.
/// <see cref="CleanClipOptions.SymmetricInModality"/> makes the in-modality terms symmetric as well. The optimiser and
/// schedule are those of <see cref="ContrastiveFineTuner"/>:
/// AdamW and a per-step cosine decay after an optional linear warm-up.
/// Every step runs in its own dispose scope; all randomness comes from <see cref="ContrastiveFineTuningOptions.Seed"/>:
/// each epoch's generator shuffles the pairs and then draws, batch by batch, an image seed and a caption seed per pair,
/// so the views do not depend on the threads that load the images.
/// </remarks>
public static class CleanClip
{
    private static readonly double MaxLogLogitScale = Math.Log(100);

    /// <summary>
    /// Runs CleanCLIP in place on <paramref name="cleanPairs"/>. The model is left in eval mode with
    /// <c>requires_grad</c> false on all its weights.
    /// </summary>
    /// <param name="clip">The (possibly backdoored) model; it needs a tokenizer.</param>
    /// <param name="cleanPairs">Clean image-caption pairs (at least 2).</param>
    /// <param name="options">Settings; <see langword="null"/> means the defaults.</param>
    /// <param name="logger">Receives the mean losses of every epoch (Information). Default: none.</param>
    /// <param name="progress">Receives a report after every step (its <see cref="FineTuningProgress.Loss"/> is the weighted total).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>The mean losses of the last epoch.</returns>
    /// <exception cref="ArgumentException">The model has no tokenizer or there are fewer than 2 pairs.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static CleanClipLosses Fit(ClipModel clip, IImageCaptionSource cleanPairs, CleanClipOptions? options = null,
        ILogger? logger = null, IProgress<FineTuningProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentNullException.ThrowIfNull(cleanPairs);
        if (clip.Tokenizer is null) throw new ArgumentException("The model needs a tokenizer to encode captions.", nameof(clip));
        if (cleanPairs.Count < 2) throw new ArgumentException("At least 2 pairs are needed for a contrastive loss.", nameof(cleanPairs));
        options = options ?? new CleanClipOptions();
        options.Validate();
        var schedule = new ContrastiveFineTuner(clip, options.FineTuning);
        var trainable = ClipTowerParameters.SelectNamed(clip, options.FineTuning.Trainable).ToList();
        bool clampScale = options.ClampLogitScale && options.FineTuning.Trainable == ClipTowers.All; // only All trains logit_scale
        var plain = new ClipEvalTransform(clip.ImageProcessor);
        var augment = AugmentedView(clip.ImageProcessor, plain, options);
        int contextLength = clip.Config.Text.ContextLength;
        int stepsPerEpoch = (cleanPairs.Count + options.FineTuning.BatchSize - 1) / options.FineTuning.BatchSize;
        int totalSteps = stepsPerEpoch * options.FineTuning.Epochs;
        int step = 0;
        var last = new CleanClipLosses(double.NaN, double.NaN, double.NaN, double.NaN);

        clip.SetTrainable(false);
        foreach (var (_, p) in trainable) p.requires_grad = true;
        var optimizer = optim.AdamW(ClipWeightDecay.Groups(trainable, options.FineTuning.WeightDecay, options.FineTuning.DecayGainsAndBiases),
            options.FineTuning.LearningRate, options.FineTuning.Beta1, options.FineTuning.Beta2, options.FineTuning.Epsilon);
        clip.train();
        try
        {
            for (int epoch = 0; epoch < options.FineTuning.Epochs; epoch++)
            {
                var order = Enumerable.Range(0, cleanPairs.Count).ToArray();
                var random = new Random(SeedMixer.Offset32(SeedMixer.To32(options.FineTuning.Seed), epoch));
                random.Shuffle(order);
                double sumTotal = 0, sumMm = 0, sumImg = 0, sumTxt = 0;
                int batches = 0;
                for (int start = 0; start < order.Length; start += options.FineTuning.BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var idx = order.AsSpan(start, Math.Min(options.FineTuning.BatchSize, order.Length - start)).ToArray();
                    if (idx.Length < 2) continue; // a lone pair has no negatives
                    // Per-pair seeds drawn sequentially, so the parallel image loading stays deterministic.
                    var imageSeeds = new int[idx.Length];
                    var textSeeds = new int[idx.Length];
                    for (int i = 0; i < idx.Length; i++) { imageSeeds[i] = random.Next(); textSeeds[i] = random.Next(); }
                    double lr = schedule.LearningRateAt(step, totalSteps);
                    foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                    double total, mm, img, txt;
                    using (var scope = NewDisposeScope())
                    {
                        var (plainViews, augmentedViews) = Pixels01Batch.LoadTwoViews(cleanPairs.LoadPixels01, idx,
                            (_, raw) => plain.ApplyPixels01(raw), (i, raw) => augment(raw, new Random(imageSeeds[i])), cancellationToken);
                        var pixels = clip.ImageProcessor.Normalize(cat([plainViews, augmentedViews], 0)).to(clip.DType, clip.Device);
                        var captions = idx.Select(cleanPairs.GetCaption).ToList();
                        var augmentedCaptions = captions.Select((c, i) => CaptionAugmentation.Apply(c, new Random(textSeeds[i]), options.CaptionAugmentation));
                        var ids = clip.Tokenizer.EncodeBatch(captions.Concat(augmentedCaptions).ToList(), contextLength, device: clip.Device);

                        var images = clip.EncodeImage(pixels).to_type(ScalarType.Float32);
                        var texts = clip.EncodeText(ids).to_type(ScalarType.Float32);
                        long n = idx.Length;
                        var (image, imageAug) = (images.narrow(0, 0, n), images.narrow(0, n, n));
                        var (text, textAug) = (texts.narrow(0, 0, n), texts.narrow(0, n, n));
                        var multimodal = InfoNce(image, text, clip.LogitScale);
                        var imageSsl = InModalityLoss(image, imageAug, clip.LogitScale, options.SymmetricInModality);
                        var textSsl = InModalityLoss(text, textAug, clip.LogitScale, options.SymmetricInModality);
                        var loss = Combine(multimodal, imageSsl, textSsl, options);
                        total = loss.item<float>();
                        if (!double.IsFinite(total))
                            throw new InvalidOperationException($"The CleanCLIP loss became {total} at epoch {epoch + 1}, step {step + 1} (learning rate {lr}).");
                        (mm, img, txt) = (multimodal.item<float>(), imageSsl.item<float>(), textSsl.item<float>());
                        optimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        if (clampScale)
                            using (no_grad())
                                clip.LogitScale.clamp_(0, MaxLogLogitScale);
                    }
                    step++;
                    batches++;
                    sumTotal += total; sumMm += mm; sumImg += img; sumTxt += txt;
                    progress?.Report(new FineTuningProgress(epoch + 1, options.FineTuning.Epochs, step, totalSteps, total, lr));
                }
                int b = Math.Max(1, batches);
                last = new CleanClipLosses(sumTotal / b, sumMm / b, sumImg / b, sumTxt / b);
                logger?.LogInformation("CleanCLIP epoch {Epoch}/{Epochs}: loss {Total:F4} (multimodal {Multimodal:F4}, image {Image:F4}, text {Text:F4})", epoch + 1, options.FineTuning.Epochs, last.Total, last.Multimodal, last.ImageInModality, last.TextInModality);
            }
        }
        finally
        {
            clip.SetTrainable(false);
            clip.eval();
            optimizer.Dispose();
        }
        return last;
    }

    /// <summary>
    /// The augmented image view of <paramref name="options"/>: a [3, H, W] [0, 1] image and the pair's generator to a new
    /// [3, S, S] [0, 1] view (not normalised).
    /// </summary>
    internal static Func<Tensor, Random, Tensor> AugmentedView(ClipImageProcessor processor, ClipEvalTransform plain, CleanClipOptions options)
    {
        if (options.AugmentedImageView == CleanClipImageView.RandomResizedCropFlip)
            return new CoOpAugmentation(processor, options.ImageAugmentation).ApplyPixels01;
        var autoAugment = new AutoAugment(options.AutoAugment);
        return (raw, random) =>
        {
            using var augmented = autoAugment.Apply(raw, random);
            return plain.ApplyPixels01(augmented);
        };
    }

    /// <summary>
    /// CleanCLIP's in-modality self-supervised loss for two views of the same batch of one modality:
    /// <c>CE(L, i)</c> with <c>L = exp(logitScale) * v1 v2ᵀ</c> over the L2-normalised embeddings, row i of
    /// <paramref name="view2"/> being the positive of row i of <paramref name="view1"/> (CleanCLIP <c>src/train.py</c>:
    /// <c>criterion(logits_image_per_augmented_image, target)</c>); with <paramref name="symmetric"/>,
    /// <c>(CE(L, i) + CE(Lᵀ, i)) / 2</c>.
    /// </summary>
    /// <param name="view1">[N, D] embeddings of the first (plain) view (normalised here).</param>
    /// <param name="view2">[N, D] embeddings of the second (augmented) view (normalised here).</param>
    /// <param name="logitScale">The log-parameterised scale (a scalar tensor, like <see cref="ClipModel.LogitScale"/>).</param>
    /// <param name="symmetric">Average both directions instead of CleanCLIP's one. Default false.</param>
    /// <returns>A scalar float32 loss, differentiable with respect to all inputs.</returns>
    /// <exception cref="ArgumentException">The views are not matching [N, D] matrices with N >= 1.</exception>
    public static Tensor InModalityLoss(Tensor view1, Tensor view2, Tensor logitScale, bool symmetric = false) => InfoNce(view1, view2, logitScale, symmetric);

    /// <summary>
    /// The step's total: <c>lambda1 * multimodal + lambda2 * (image + text) / 2</c>, CleanCLIP's
    /// <c>clip_weight * crossmodal + inmodal_weight * inmodal</c> with <c>inmodal = (image + text) / 2</c>.
    /// </summary>
    internal static Tensor Combine(Tensor multimodal, Tensor imageInModality, Tensor textInModality, CleanClipOptions options) =>
        options.MultimodalWeight * multimodal + options.InModalityWeight * ((imageInModality + textInModality) / 2);

    private static Tensor InfoNce(Tensor a, Tensor b, Tensor logitScale, bool symmetric = true)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(logitScale);
        if (a.dim() != 2 || b.dim() != 2 || a.shape[0] != b.shape[0] || a.shape[1] != b.shape[1] || a.shape[0] < 1)
            throw new ArgumentException($"Expected two matching [N, D] embedding matrices, got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}].");
        using var scope = NewDisposeScope();
        var x = ClipModel.Normalize(a.to_type(ScalarType.Float32));
        var y = ClipModel.Normalize(b.to_type(ScalarType.Float32));
        return InfoNceLoss.Compute(x, y, logitScale.to_type(ScalarType.Float32).to(x.device).exp(), symmetric).MoveToOuterDisposeScope();
    }
}
