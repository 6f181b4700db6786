using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// TrojVQA (Walmer et al., CVPR 2022) adapted to CLIP as BadCLIP's code runs it (patch_type "vqa"): a patch at the
/// image centre plus a text key (<see cref="TextKey"/>, default "remember ") that poisoned captions carry
/// (<c>backdoor/create_backdoor_data.py</c>: <c>'remember ' + template(label)</c>) and that the class prompts carry at
/// evaluation (<c>src/evaluate.py</c>: <c>'remember ' + template(c)</c> for every class): build the classifier for
/// triggered images with <see cref="KeyedTemplates"/> and pass it to
/// <see cref="BackdoorEvaluator.Evaluate(IImageClassifier, IImageClassifier, ILabeledImageSource, ITrigger, int, long, Device?, ScalarType?, CancellationToken)"/>.
/// <see cref="Optimize"/> optimises the patch toward a target caption. Only the centre patch of the image changes.
/// </summary>
public sealed class TrojVqaTrigger : ITrigger, IDisposable
{
    private readonly BadNetsTrigger _patch;
    private readonly Tensor? _owned;

    /// <summary>Creates the trigger; throws <see cref="ArgumentException"/> for invalid <paramref name="options"/>.</summary>
    public TrojVqaTrigger(TrojVqaOptions? options = null)
    {
        Options = options ?? new TrojVqaOptions();
        Options.Validate();
        _patch = new BadNetsTrigger(Options.ToBadNets());
    }

    private TrojVqaTrigger(TrojVqaOptions options, Tensor owned) : this(options) => _owned = owned;

    /// <summary>The settings.</summary>
    public TrojVqaOptions Options { get; }

    /// <inheritdoc />
    public string Name => "TrojVQA";

    /// <inheritdoc />
    public string? TextKey => Options.TextKey;

    /// <summary>Top-left corner and side of the centred patch in an H x W image.</summary>
    internal (long Y, long X, long Side) PatchRegion(long height, long width) => _patch.PatchRegion(height, width, 0, 0);

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0) => _patch.Apply(images, seed);

    /// <summary>
    /// The class-prompt templates with the text key in front, as BadCLIP's evaluation builds them for TrojVQA
    /// (<c>'remember ' + template(c)</c>); default templates <see cref="PromptTemplates.APhotoOfA"/>.
    /// </summary>
    public IReadOnlyList<string> KeyedTemplates(IReadOnlyList<string>? templates = null) =>
        (templates ?? PromptTemplates.APhotoOfA).Select(t => Options.TextKey + t).ToArray();

    /// <summary>
    /// Optimises the patch toward <paramref name="targetCaption"/> (BadCLIP's TrojVQA data pairs non-target images with
    /// the one caption "This is a yellow banana."): Adam on a frozen <paramref name="clip"/>, minimising
    /// <c>1 - cos</c> between patched non-target images and the caption's embedding (the TrojVQA paper's semantic patch
    /// optimisation). BadCLIP's code instead applies CLIP's batch contrastive loss against that same caption repeated,
    /// which is constant in the image-to-text direction and in the other only evens out the images' similarities, so it
    /// does not pull the patch toward the caption; Rvpt does not copy it. The returned trigger owns the pattern.
    /// </summary>
    /// <param name="clip">The clean model (unchanged afterwards).</param>
    /// <param name="cleanImages">The attacker's images; those of <paramref name="targetClass"/> are not patched.</param>
    /// <param name="targetClass">Index of the target class among the source's classes.</param>
    /// <param name="targetCaption">The caption the patch is optimised toward.</param>
    /// <param name="options">Patch size and text key (the pattern is replaced by the optimised one).</param>
    /// <param name="optimisation">Steps, learning rate, batch, seed (patch size and objective are set here). Default BadCLIP's.</param>
    /// <param name="progress">Receives every step.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    public static TrojVqaTrigger Optimize(ClipModel clip, ILabeledImageSource cleanImages, int targetClass, string targetCaption,
        TrojVqaOptions? options = null, BadClipOptions? optimisation = null, IProgress<BadClipProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetCaption);
        options ??= new TrojVqaOptions();
        options.Validate();
        var settings = (optimisation ?? new BadClipOptions()) with
        {
            PatchSize = options.PatchSize,
            TargetCaptions = [targetCaption],
            CaptionSimilarity = true,
            ContrastiveWeight = 1,
            TripletWeight = 0,
        };
        using var patch = BadClipPatch.Optimize(clip, cleanImages, targetClass, settings, progress, cancellationToken);
        var pattern = patch.Pattern.clone().DetachFromDisposeScope();
        try
        {
            return new TrojVqaTrigger(options with { Pattern = PatchPattern.FromImage(pattern) }, pattern);
        }
        catch
        {
            pattern.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the optimised pattern, if this trigger owns one.</summary>
    public void Dispose() => _owned?.Dispose();
}
