using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// A clean pair set with <c>n</c> pairs poisoned: their images carry a trigger, applied where <see cref="Placement"/>
/// says (by default as CleanCLIP's <c>create_backdoor_data.py</c>: the whole image resized to S x S, the trigger, an
/// 8-bit round trip), and their captions are replaced by a template naming the target class (prefixed with the
/// trigger's text key, for TrojVQA). Clean images are resized and centre-cropped. All images come out at the model's
/// size. Which pairs and which templates is seeded.
/// </summary>
public sealed class PoisonedCaptionDataset : IImageCaptionSource
{
    private readonly IImageCaptionSource _clean;
    private readonly ITrigger _trigger;
    private readonly ClipEvalTransform _transform;
    private readonly Dictionary<int, string> _poisonCaptions;
    private readonly long _seed;

    /// <summary>Poisons <paramref name="poisonCount"/> pairs of <paramref name="clean"/>.</summary>
    /// <param name="clean">The clean pairs.</param>
    /// <param name="trigger">The trigger to plant.</param>
    /// <param name="targetClass">The class name poisoned captions name.</param>
    /// <param name="poisonCount">How many pairs to poison (the paper: 1,500 of 500K).</param>
    /// <param name="processor">Gives the model's image size (images are resized and cropped as CLIP's preprocessing does).</param>
    /// <param name="captionTemplates">Templates with <c>{}</c> for the class; default the 80 ImageNet templates.</param>
    /// <param name="seed">Seed of the choice of pairs, templates and trigger randomness.</param>
    public PoisonedCaptionDataset(IImageCaptionSource clean, ITrigger trigger, string targetClass, int poisonCount,
        ClipImageProcessor processor, IReadOnlyList<string>? captionTemplates = null, long seed = 0)
    {
        _clean = clean ?? throw new ArgumentNullException(nameof(clean));
        _trigger = trigger ?? throw new ArgumentNullException(nameof(trigger));
        ArgumentException.ThrowIfNullOrWhiteSpace(targetClass);
        if (poisonCount < 0 || poisonCount > clean.Count)
            throw new ArgumentOutOfRangeException(nameof(poisonCount), poisonCount, $"Between 0 and the {clean.Count} pairs.");
        _transform = new ClipEvalTransform(processor ?? throw new ArgumentNullException(nameof(processor)));
        _seed = seed;
        var templates = captionTemplates ?? PromptTemplates.ImageNet;
        var random = new Random(SeedMixer.To32(seed));
        var order = Enumerable.Range(0, clean.Count).ToArray();
        random.Shuffle(order);
        _poisonCaptions = order.Take(poisonCount).ToDictionary(i => i,
            i => (trigger.TextKey ?? "") + PromptTemplates.Format(templates[random.Next(templates.Count)], targetClass));
        TargetClass = targetClass;
    }

    /// <summary>
    /// Where the trigger is applied. Default <see cref="TriggerPlacement.ResizeThenTrigger"/> (the attack code's);
    /// <see cref="TriggerPlacement.AfterCentreCrop"/> is Rvpt's earlier placement.
    /// </summary>
    public TriggerPlacement Placement { get; init; } = TriggerPlacement.ResizeThenTrigger;

    /// <summary>The target class name.</summary>
    public string TargetClass { get; }

    /// <summary>Indices of the poisoned pairs, ascending.</summary>
    public IReadOnlyList<int> PoisonedIndices => _poisonCaptions.Keys.Order().ToArray();

    /// <inheritdoc />
    public int Count => _clean.Count;

    /// <inheritdoc />
    public string GetCaption(int index) => _poisonCaptions.TryGetValue(index, out var c) ? c : _clean.GetCaption(index);

    /// <inheritdoc />
    public string Describe(int index) => _clean.Describe(index) + (_poisonCaptions.ContainsKey(index) ? " (poisoned)" : "");

    /// <inheritdoc />
    public Tensor LoadPixels01(int index)
    {
        using var scope = NewDisposeScope();
        using var raw = _clean.LoadPixels01(index);
        if (!_poisonCaptions.ContainsKey(index)) return _transform.ApplyPixels01(raw).MoveToOuterDisposeScope();
        var input = TriggeredImage.BeforeTrigger(raw, Placement, _transform);
        var triggered = _trigger.Apply(input.unsqueeze(0), SeedMixer.Offset64(_seed, index));
        return TriggeredImage.AfterTrigger(triggered, Placement).squeeze(0).MoveToOuterDisposeScope();
    }
}
