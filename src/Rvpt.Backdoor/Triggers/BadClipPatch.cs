using System.Globalization;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>One optimisation step of <c>BadClipPatch.Optimize</c>.</summary>
/// <param name="Step">Zero-based step index.</param>
/// <param name="TotalSteps">Number of steps of the run.</param>
/// <param name="Objective">The weighted objective on this step's batch, before the update.</param>
public sealed record BadClipProgress(int Step, int TotalSteps, double Objective);

/// <summary>
/// The BadCLIP trigger (Liang et al., CVPR 2024): a square patch (16 pixels at 224 by default) pasted at the image
/// centre, whose content is optimised on a frozen clean CLIP so that patched images embed near the target class, as
/// BadCLIP's <c>src/embeding_optimize_patch.py</c> does. The objective is a text term (with
/// <see cref="BadClipOptions.TargetCaptions"/>, CLIP's contrastive loss between the patched images and natural captions
/// of the target; without, the cross-entropy over the class captions toward the target) plus a weighted triplet term
/// (anchor the patched image, positive a target-class image, negative the same image clean; PyTorch's
/// <c>TripletMarginLoss</c> by default). Once optimised, the patch is applied exactly like a BadNets patch
/// (<see cref="BadNetsTrigger"/> with a custom pattern at <see cref="PatchPositionKind.Centre"/>). Remaining
/// differences from BadCLIP's code: no EDA/augmentation of the optimisation batches (its README uses text EDA with
/// probability 0.1 and image augmentation with 0.5), positives drawn per anchor rather than 64 by <c>randperm</c>,
/// steps instead of epochs, and Rvpt's centre placement (floor((S - side) / 2)) can differ by a pixel from
/// BadCLIP's <c>int(S / 2 - side / 2)</c> for odd sizes.
/// </summary>
public sealed class BadClipPatch : ITrigger, IDisposable
{
    private const string PatternKey = "pattern";
    private readonly Tensor _pattern;
    private readonly BadNetsTrigger _trigger;

    /// <summary>
    /// Wraps an existing pattern <c>[3, P, P]</c> in [0, 1] (copied to a float32 CPU tensor owned by the patch);
    /// <paramref name="patchSize"/> is the side at 224.
    /// </summary>
    /// <exception cref="ArgumentException">The pattern or the patch size is invalid.</exception>
    public BadClipPatch(Tensor pattern, int patchSize = 16, string? targetClass = null)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        using (var scope = NewDisposeScope())
        {
            _pattern = pattern.detach().to(ScalarType.Float32, CPU).contiguous().clone().DetachFromDisposeScope();
        }
        try
        {
            _trigger = new BadNetsTrigger(new BadNetsOptions
            {
                PatchSize = patchSize,
                Position = PatchPosition.Named(PatchPositionKind.Centre),
                Pattern = PatchPattern.FromImage(_pattern),
            });
        }
        catch
        {
            _pattern.Dispose();
            throw;
        }
        PatchSize = patchSize;
        TargetClass = targetClass;
    }

    /// <summary>The optimised pattern <c>[3, P, P]</c>, float32 CPU in [0, 1]; owned by the patch (do not dispose).</summary>
    public Tensor Pattern => _pattern;

    /// <summary>Patch side in pixels at 224.</summary>
    public int PatchSize { get; }

    /// <summary>Name of the class the patch was optimised toward, or null if unknown.</summary>
    public string? TargetClass { get; }

    /// <summary>The objective of every optimisation step (empty for a loaded patch).</summary>
    public IReadOnlyList<double> ObjectiveHistory { get; private init; } = Array.Empty<double>();

    /// <summary>The objective of the initial patch on the fixed evaluation batch (NaN for a loaded patch).</summary>
    public double InitialObjective { get; private init; } = double.NaN;

    /// <summary>The objective of the optimised patch on the same evaluation batch (NaN for a loaded patch).</summary>
    public double FinalObjective { get; private init; } = double.NaN;

    /// <inheritdoc />
    public string Name => "BadCLIP";

    /// <inheritdoc />
    public string? TextKey => null;

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0) => _trigger.Apply(images, seed);

    /// <summary>Optimises a patch toward the class named <paramref name="targetClass"/> of <paramref name="cleanImages"/>.</summary>
    /// <exception cref="ArgumentException">The class is not one of the source's class names.</exception>
    public static BadClipPatch Optimize(ClipModel clip, ILabeledImageSource cleanImages, string targetClass, BadClipOptions? options = null,
        IProgress<BadClipProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cleanImages);
        ArgumentNullException.ThrowIfNull(targetClass);
        var index = cleanImages.ClassNames.ToList().IndexOf(targetClass);
        if (index < 0)
            throw new ArgumentException($"Target class '{targetClass}' is not one of the source's classes ({string.Join(", ", cleanImages.ClassNames)}).", nameof(targetClass));
        return Optimize(clip, cleanImages, index, options, progress, cancellationToken);
    }

    /// <summary>
    /// Optimises a patch with Adam on a frozen <paramref name="clip"/> (its weights and <c>requires_grad</c> flags are
    /// unchanged afterwards). Patched images are the source's non-target images (all images if every image is of
    /// the target class), resized and centre-cropped to the model size; triplet positives are the source's
    /// target-class images. Deterministic for <see cref="BadClipOptions.Seed"/> on a given device.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options or target, an empty source, or a positive triplet weight
    /// without target-class images.</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static BadClipPatch Optimize(ClipModel clip, ILabeledImageSource cleanImages, int targetClass, BadClipOptions? options = null,
        IProgress<BadClipProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentNullException.ThrowIfNull(cleanImages);
        options ??= new BadClipOptions();
        options.Validate();
        var classNames = cleanImages.ClassNames;
        if (targetClass < 0 || targetClass >= classNames.Count)
            throw new ArgumentOutOfRangeException(nameof(targetClass), targetClass, $"Target class must be in [0, {classNames.Count}).");
        if (cleanImages.Count == 0)
            throw new ArgumentException("The image source is empty.", nameof(cleanImages));

        var all = Enumerable.Range(0, cleanImages.Count).ToList();
        var targets = all.Where(i => cleanImages.GetLabel(i) == targetClass).ToList();
        var candidates = all.Where(i => cleanImages.GetLabel(i) != targetClass).ToList();
        if (candidates.Count == 0) candidates = all;
        if (options.TripletWeight > 0 && targets.Count == 0)
            throw new ArgumentException($"The triplet term needs images of the target class '{classNames[targetClass]}'; the source has none.", nameof(cleanImages));

        var random = new Random(unchecked((int)(options.Seed ^ (options.Seed >> 32))));
        var transform = new ClipEvalTransform(clip.ImageProcessor);
        var device = clip.Device;
        var dtype = clip.DType;

        var saved = clip.parameters().Select(p => (Parameter: p, p.requires_grad)).ToList();
        var wasTraining = clip.training;
        clip.SetTrainable(false);
        clip.eval();
        Tensor? textEmbeddings = null, captionEmbeddings = null, positives = null, evalPixels01 = null, evalPositives = null, evalCaptions = null;
        TorchSharp.Modules.Parameter? parameter = null;
        try
        {
            using (no_grad())
            using (var scope = NewDisposeScope())
            {
                textEmbeddings = ClassTextEmbeddings(clip, classNames, options.CaptionTemplates).DetachFromDisposeScope();
                if (options.TargetCaptions is { } captions)
                {
                    var parts = new List<Tensor>();
                    for (int start = 0; start < captions.Count; start += options.BatchSize)
                        parts.Add(clip.EncodeTextNormalized(captions.Skip(start).Take(options.BatchSize).ToList()));
                    captionEmbeddings = cat(parts, 0);
                    if (options.CaptionSimilarity) captionEmbeddings = ClipModel.Normalize(captionEmbeddings.mean(new long[] { 0 }, keepdim: true));
                    captionEmbeddings = captionEmbeddings.DetachFromDisposeScope();
                }
                if (targets.Count > 0)
                {
                    var chosen = Shuffled(targets, random).Take(options.MaxTargetImages).ToList();
                    var parts = new List<Tensor>();
                    for (int start = 0; start < chosen.Count; start += options.BatchSize)
                    {
                        var pixels01 = LoadPixels01Batch(cleanImages, transform, chosen.Skip(start).Take(options.BatchSize).ToList(), device, dtype);
                        parts.Add(clip.EncodeImageNormalized(clip.ImageProcessor.Normalize(pixels01)));
                    }
                    positives = cat(parts, 0).DetachFromDisposeScope();
                }
                var evalIndices = Shuffled(candidates, random).Take(options.EvaluationImages).ToList();
                evalPixels01 = LoadPixels01Batch(cleanImages, transform, evalIndices, device, dtype).DetachFromDisposeScope();
                if (positives is not null)
                    evalPositives = positives.index_select(0, arange(evalIndices.Count, ScalarType.Int64, device).remainder(positives.shape[0])).DetachFromDisposeScope();
                if (captionEmbeddings is not null)
                    evalCaptions = captionEmbeddings.index_select(0, arange(evalIndices.Count, ScalarType.Int64, device).remainder(captionEmbeddings.shape[0])).DetachFromDisposeScope();
            }

            var generator = new Generator((ulong)options.Seed, CPU);
            using (var noise = randn(new long[] { 3, options.PatchSize, options.PatchSize }, ScalarType.Float32, CPU, generator: generator))
            using (var init = options.Parameterization == BadClipParameterization.ClippedPixels
                ? noise.mul(0.25).add(0.5).clamp(0, 1)  // BadCLIP: np.clip(np.random.normal(0.5, 0.25, ...), 0, 1)
                : noise.clone())                         // the sigmoid's argument starts as standard normal noise
                parameter = new TorchSharp.Modules.Parameter(init.to(dtype, device).DetachFromDisposeScope(), requires_grad: true);
            var free = parameter;
            Tensor Patch() => PatchOf(free, options.Parameterization);
            using var optimizer = optim.Adam(new[] { free }, options.LearningRate);

            double Evaluate()
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                return Objective(clip, evalPixels01!, evalPositives, evalCaptions, Patch(), textEmbeddings!, targetClass, options).to(ScalarType.Float32).item<float>();
            }

            var initial = Evaluate();
            var history = new List<double>(options.Steps);
            var order = new List<int>();
            var cursor = 0;
            for (int step = 0; step < options.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = new List<int>(options.BatchSize);
                while (batch.Count < Math.Min(options.BatchSize, candidates.Count))
                {
                    if (cursor >= order.Count) { order = Shuffled(candidates, random); cursor = 0; }
                    batch.Add(order[cursor++]);
                }
                var positiveRows = positives is null ? null : batch.Select(_ => (long)random.Next((int)positives.shape[0])).ToArray();
                var captionRows = captionEmbeddings is null ? null : batch.Select(_ => (long)random.Next((int)captionEmbeddings.shape[0])).ToArray();
                using var scope = NewDisposeScope();
                var pixels01 = LoadPixels01Batch(cleanImages, transform, batch, device, dtype);
                var batchPositives = positiveRows is null ? null : positives!.index_select(0, tensor(positiveRows, device: device));
                var batchCaptions = captionRows is null ? null : captionEmbeddings!.index_select(0, tensor(captionRows, device: device));
                optimizer.zero_grad();
                var loss = Objective(clip, pixels01, batchPositives, batchCaptions, Patch(), textEmbeddings!, targetClass, options);
                loss.backward();
                optimizer.step();
                var value = loss.detach().to(ScalarType.Float32).item<float>();
                if (!float.IsFinite(value))
                    throw new InvalidOperationException($"The BadCLIP objective became {value} at step {step}.");
                history.Add(value);
                progress?.Report(new BadClipProgress(step, options.Steps, value));
            }
            var final = Evaluate();

            using var patternScope = NewDisposeScope();
            using var __ = no_grad();
            var pattern = Patch().detach();
            return new BadClipPatch(pattern, options.PatchSize, classNames[targetClass])
            {
                ObjectiveHistory = history,
                InitialObjective = initial,
                FinalObjective = final,
            };
        }
        finally
        {
            foreach (var (p, requiresGrad) in saved) p.requires_grad = requiresGrad;
            clip.train(wasTraining);
            textEmbeddings?.Dispose();
            captionEmbeddings?.Dispose();
            evalCaptions?.Dispose();
            positives?.Dispose();
            parameter?.Dispose();
            evalPixels01?.Dispose();
            evalPositives?.Dispose();
        }
    }

    /// <summary>
    /// Pastes <paramref name="pattern"/> <c>[3, P, P]</c> (<paramref name="patchSize"/> at 224) at the centre of
    /// <paramref name="images"/> <c>[N, 3, H, W]</c> with differentiable tensor ops: the same pixels as
    /// <see cref="Apply"/> (nearest resize, centre placement), but gradients flow back to the pattern.
    /// </summary>
    internal static Tensor PasteCentre(Tensor images, Tensor pattern, int patchSize)
    {
        using var scope = NewDisposeScope();
        var (h, w) = (images.shape[2], images.shape[3]);
        var side = Math.Min(TriggerInput.ScaleLength(patchSize, Math.Min(h, w)), Math.Min(h, w));
        var (y, x) = ((h - side) / 2, (w - side) / 2);
        var resized = pattern.shape[1] == side && pattern.shape[2] == side
            ? pattern
            : nn.functional.interpolate(pattern.unsqueeze(0), new[] { side, side }, mode: InterpolationMode.Nearest).squeeze(0);
        var pad = new long[] { x, w - x - side, y, h - y - side };
        var padded = nn.functional.pad(resized.to(images.dtype), pad);
        var mask = nn.functional.pad(ones(new long[] { 1, side, side }, images.dtype, images.device), pad);
        var result = images * (1 - mask) + padded.unsqueeze(0) * mask;
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Writes the pattern and its metadata (patch size, target class) as safetensors.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "rvpt-badclip-patch",
            ["patch_size"] = PatchSize.ToString(CultureInfo.InvariantCulture),
        };
        if (TargetClass is not null) metadata["target_class"] = TargetClass;
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { [PatternKey] = _pattern }, metadata);
    }

    /// <summary>Reads a patch written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file has no pattern or no valid patch size.</exception>
    public static BadClipPatch Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var tensors = SafetensorsFile.Load(path, null, out var metadata);
        try
        {
            if (!tensors.TryGetValue(PatternKey, out var pattern))
                throw new InvalidDataException($"'{path}' holds no '{PatternKey}' tensor; it is not a BadCLIP patch.");
            if (!metadata.TryGetValue("patch_size", out var sizeText) || !int.TryParse(sizeText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var patchSize))
                throw new InvalidDataException($"'{path}' has no valid 'patch_size' metadata; it is not a BadCLIP patch.");
            metadata.TryGetValue("target_class", out var target);
            try
            {
                return new BadClipPatch(pattern, patchSize, target);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{path}' holds an invalid BadCLIP patch: {e.Message}", e);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Disposes the pattern.</summary>
    public void Dispose() => _pattern.Dispose();

    // The patch in [0, 1] from the free tensor: BadCLIP's torch.clip(patch, 0, 1), or Rvpt's earlier sigmoid.
    private static Tensor PatchOf(Tensor free, BadClipParameterization parameterization) =>
        parameterization == BadClipParameterization.ClippedPixels ? free.clamp(0, 1) : free.sigmoid();

    // Weighted objective for a batch of [0, 1] pixel images (model size) and the patch in [0, 1].
    private static Tensor Objective(ClipModel clip, Tensor pixels01, Tensor? positives, Tensor? captions, Tensor patch, Tensor textEmbeddings,
        int targetClass, BadClipOptions options)
    {
        using var scope = NewDisposeScope();
        var patched = PasteCentre(pixels01, patch, options.PatchSize);
        var anchor = clip.EncodeImageNormalized(clip.ImageProcessor.Normalize(patched));
        var n = pixels01.shape[0];
        var loss = zeros(Array.Empty<long>(), anchor.dtype, anchor.device);
        if (options.ContrastiveWeight > 0)
        {
            Tensor text;
            if (captions is null)
            {
                var logits = clip.Logits(anchor, textEmbeddings.to(anchor.dtype));
                text = nn.functional.cross_entropy(logits, full(new long[] { n }, targetClass, ScalarType.Int64, anchor.device));
            }
            else if (options.CaptionSimilarity)
                text = (1 - (anchor * captions.to(anchor.dtype)).sum(new long[] { 1 })).mean();
            else
                text = ContrastiveTerm(anchor, captions.to(anchor.dtype), clip.LogitScale);
            loss = loss + options.ContrastiveWeight * text;
        }
        if (options.TripletWeight > 0 && positives is not null)
        {
            Tensor clean;
            using (no_grad()) clean = clip.EncodeImageNormalized(clip.ImageProcessor.Normalize(pixels01));
            loss = loss + options.TripletWeight * TripletTerm(anchor, positives.to(anchor.dtype), clean, options.TripletMargin, options.TripletDistance);
        }
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// CLIP's symmetric contrastive loss between <paramref name="anchor"/> and <paramref name="captions"/> (both
    /// <c>[N, D]</c>, normalised, row i paired with row i): <c>(CE(L) + CE(Lᵀ)) / 2</c>, <c>L = exp(logitScale) A Cᵀ</c>
    /// (BadCLIP <c>get_loss</c>, <c>img_text</c>).
    /// </summary>
    internal static Tensor ContrastiveTerm(Tensor anchor, Tensor captions, Tensor logitScale)
    {
        using var scope = NewDisposeScope();
        return InfoNceLoss.Compute(anchor, captions, logitScale.to(anchor.dtype, anchor.device).exp()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The triplet term, mean over rows of <c>max(d(a, p) - d(a, n) + margin, 0)</c>: Euclidean as PyTorch's
    /// <c>TripletMarginLoss</c> (<c>d = ||a - b + 1e-6||</c>), or cosine distance <c>1 - a·b</c> on normalised rows.
    /// </summary>
    internal static Tensor TripletTerm(Tensor anchor, Tensor positive, Tensor negative, double margin, BadClipTripletDistance distance)
    {
        using var scope = NewDisposeScope();
        Tensor D(Tensor b) => distance == BadClipTripletDistance.Euclidean
            ? (anchor - b + 1e-6).pow(2).sum(new long[] { 1 }).sqrt()
            : 1 - (anchor * b).sum(new long[] { 1 });
        return (D(positive) - D(negative) + margin).clamp_min(0).mean().MoveToOuterDisposeScope();
    }

    private static Tensor ClassTextEmbeddings(ClipModel clip, IReadOnlyList<string> classNames, IReadOnlyList<string> templates)
    {
        using var scope = NewDisposeScope();
        var rows = new List<Tensor>();
        foreach (var name in classNames)
        {
            var texts = templates.Select(t => PromptTemplates.Format(t, name)).ToList();
            rows.Add(ClipModel.Normalize(clip.EncodeTextNormalized(texts).mean(new long[] { 0 }, keepdim: true)));
        }
        return cat(rows, 0).MoveToOuterDisposeScope();
    }

    private static Tensor LoadPixels01Batch(ILabeledImageSource source, ClipEvalTransform transform, IReadOnlyList<int> indices, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        return Pixels01Batch.Load(source.LoadPixels01, indices, transform, CancellationToken.None).to(dtype, device).MoveToOuterDisposeScope();
    }

    private static List<int> Shuffled(IReadOnlyList<int> items, Random random)
    {
        var copy = items.ToList();
        for (int i = copy.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }
        return copy;
    }
}
