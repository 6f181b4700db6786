using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// The deployed defence: a base CLIP model with saved (R)VPT prompts in its image tower, classifying images by CLIP's
/// zero-shot rule over the class names and templates the prompts were trained with (recorded in the prompt file).
/// <code>
/// using var clip = ClipModel.FromPretrained("models/clip-vit-b-32", dtype: ScalarType.BFloat16);
/// using var defended = PromptedClassifier.Load("defended.prompts.safetensors", clip);
/// foreach (var p in defended.Classify("photo.jpg", topK: 3)) Console.WriteLine($"{p.ClassName}: {p.Probability:P1}");
/// </code>
/// </summary>
/// <remarks>
/// Owns the prompts when it loaded them (<see cref="Load"/>) and the class embeddings; the model is not owned. The
/// prompts run in eval mode (no dropout). Class embeddings are computed once, in float32, on the model's device.
/// </remarks>
public sealed class PromptedClassifier : IDisposable
{
    private readonly bool _ownsPrompts;

    private PromptedClassifier(DeepPromptInjector prompts, bool ownsPrompts, IReadOnlyList<string>? classNames, IReadOnlyList<string>? templates)
    {
        var names = classNames ?? prompts.ClassNames ?? throw new ArgumentException(
            "The prompts record no class names (a prompt file saved before they were recorded, or prompts not trained with FewShotTrainer): pass them.",
            nameof(classNames));
        Templates = templates ?? prompts.Templates ?? PromptTemplates.APhotoOfA;
        Prompts = prompts;
        _ownsPrompts = ownsPrompts;
        Classifier = ZeroShotClassifier.Create(prompts.Clip, names, Templates, imageEncoder: prompts.EncodeImage);
    }

    /// <summary>
    /// Loads prompts saved with <see cref="DeepPromptInjector.Save"/> onto <paramref name="clip"/> (checking, unless
    /// <paramref name="verifyBaseWeights"/> is false, that it holds the weights they were trained on, in any of float32,
    /// float16 or bfloat16; see <see cref="DeepPromptInjector.Load"/>) and builds the classifier.
    /// </summary>
    /// <param name="promptsPath">The prompt file.</param>
    /// <param name="clip">The base model (not owned); it needs a tokenizer.</param>
    /// <param name="classNames">Class names; null for those recorded in the file.</param>
    /// <param name="templates">Templates; null for those recorded in the file (or <see cref="PromptTemplates.APhotoOfA"/>).</param>
    /// <param name="verifyBaseWeights">Whether to check the model's weights against the file's signature. Default true.</param>
    /// <exception cref="InvalidDataException">The file is not a prompt checkpoint, or it was trained for another model.</exception>
    /// <exception cref="ArgumentException">The file records no class names and none were given.</exception>
    public static PromptedClassifier Load(string promptsPath, ClipModel clip, IReadOnlyList<string>? classNames = null,
        IReadOnlyList<string>? templates = null, bool verifyBaseWeights = true)
    {
        var prompts = PromptCheckpoint.Load(promptsPath, clip, verifyBaseWeights);
        try
        {
            return new PromptedClassifier(prompts, ownsPrompts: true, classNames, templates);
        }
        catch
        {
            prompts.Dispose();
            throw;
        }
    }

    /// <summary>A classifier over prompts in memory (not owned); class names and templates default to the prompts' own.</summary>
    /// <exception cref="ArgumentException">The prompts record no class names and none were given.</exception>
    public static PromptedClassifier Create(DeepPromptInjector prompts, IReadOnlyList<string>? classNames = null, IReadOnlyList<string>? templates = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return new PromptedClassifier(prompts, ownsPrompts: false, classNames, templates);
    }

    /// <summary>The prompts in use.</summary>
    public DeepPromptInjector Prompts { get; }

    /// <summary>The zero-shot classifier over the prompted image features (class embeddings, logits, top-k).</summary>
    public ZeroShotClassifier Classifier { get; }

    /// <summary>The class names, in logit order.</summary>
    public IReadOnlyList<string> ClassNames => Classifier.ClassNames;

    /// <summary>The prompt templates of the class embeddings.</summary>
    public IReadOnlyList<string> Templates { get; }

    /// <summary>Logits <c>[N, classes]</c> (float32) for CLIP-normalised pixels <c>[N, 3, S, S]</c> on any device.</summary>
    public Tensor Logits(Tensor pixelValues)
    {
        using var noGrad = no_grad();
        return Classifier.Logits(pixelValues);
    }

    /// <summary>Loads, preprocesses and classifies one image file: the <paramref name="topK"/> most probable classes.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable image.</exception>
    public IReadOnlyList<ZeroShotPrediction> Classify(string imagePath, int topK = 5) => Classifier.Classify(imagePath, topK);

    /// <summary>Classifies image files, <paramref name="batchSize"/> at a time, in the order given.</summary>
    public IReadOnlyList<IReadOnlyList<ZeroShotPrediction>> Classify(IReadOnlyList<string> imagePaths, int topK = 5, int batchSize = 32,
        CancellationToken cancellationToken = default) =>
        Classifier.Classify(imagePaths, topK, batchSize, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        Classifier.Dispose();
        if (_ownsPrompts) Prompts.Dispose();
    }
}
