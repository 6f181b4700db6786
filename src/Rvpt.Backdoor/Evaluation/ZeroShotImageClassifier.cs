using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// CLIP zero-shot classification as an <see cref="IImageClassifier"/>: the undefended model, or — with
/// <see cref="WithPrompts"/> — the model with (R)VPT prompts in place.
/// </summary>
public sealed class ZeroShotImageClassifier : IImageClassifier, IDisposable
{
    private readonly ZeroShotClassifier _classifier;

    private ZeroShotImageClassifier(ZeroShotClassifier classifier) => _classifier = classifier;

    /// <summary>Plain CLIP zero-shot over <paramref name="classNames"/> x <paramref name="templates"/>.</summary>
    public static ZeroShotImageClassifier Create(ClipModel clip, IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null) =>
        new(ZeroShotClassifier.Create(clip, classNames, templates));

    /// <summary>Zero-shot with the image features of a prompted encoder.</summary>
    public static ZeroShotImageClassifier WithPrompts(DeepPromptInjector prompts, IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return new(ZeroShotClassifier.Create(prompts.Clip, classNames, templates, imageEncoder: prompts.EncodeImage));
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames => _classifier.ClassNames;

    /// <summary>The model's device.</summary>
    public Device Device => _classifier.Device;

    /// <summary>The model's dtype.</summary>
    public ScalarType DType => _classifier.DType;

    /// <inheritdoc />
    public Tensor Predict(Tensor normalizedPixels) => _classifier.PredictIndices(normalizedPixels);

    /// <inheritdoc />
    public void Dispose() => _classifier.Dispose();
}
