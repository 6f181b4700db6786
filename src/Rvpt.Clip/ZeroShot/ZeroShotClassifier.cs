using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// CLIP zero-shot classification: each class is represented by the L2-normalised mean of the normalised text
/// embeddings of its prompts (class name x templates, OpenCLIP's <c>build_zero_shot_classifier</c>); an image's
/// logits are <c>exp(logit_scale) * cos(image, class)</c>.
/// </summary>
/// <remarks>Owns the class-embedding tensor: dispose the classifier. The model is not owned.</remarks>
public sealed class ZeroShotClassifier : IDisposable
{
    private readonly ClipModel _model;
    private readonly Func<Tensor, Tensor> _imageEncoder;

    private ZeroShotClassifier(ClipModel model, IReadOnlyList<string> classNames, Tensor classEmbeddings, Func<Tensor, Tensor>? imageEncoder)
    {
        _model = model;
        ClassNames = classNames;
        ClassEmbeddings = classEmbeddings;
        _imageEncoder = imageEncoder ?? model.EncodeImage;
    }

    /// <summary>The class names, in logit order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Normalised class embeddings <c>[classes, embedDim]</c> on the model's device.</summary>
    public Tensor ClassEmbeddings { get; }

    /// <summary>
    /// Builds the classifier. Uses <paramref name="tokenizer"/> or the model's own tokenizer; templates default to
    /// <see cref="PromptTemplates.APhotoOfA"/>. <paramref name="imageEncoder"/> replaces the model's image encoder
    /// (for example a prompted encoder); it must return raw (unnormalised) embeddings.
    /// </summary>
    /// <exception cref="ArgumentException">No classes, duplicate classes, or a template without <c>{}</c>.</exception>
    /// <exception cref="InvalidOperationException">Neither a tokenizer nor a model tokenizer is available.</exception>
    public static ZeroShotClassifier Create(ClipModel model, IReadOnlyList<string> classNames, IReadOnlyList<string>? templates = null,
        ClipTokenizer? tokenizer = null, Func<Tensor, Tensor>? imageEncoder = null, int textBatchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0) throw new ArgumentException("At least one class name is required.", nameof(classNames));
        var dup = classNames.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Class name '{dup.Key}' appears {dup.Count()} times.", nameof(classNames));
        templates ??= PromptTemplates.APhotoOfA;
        if (templates.Count == 0) throw new ArgumentException("At least one template is required.", nameof(templates));
        tokenizer ??= model.Tokenizer ?? throw new InvalidOperationException(
            "No tokenizer: pass one (ClipTokenizer.FromBundledVocabulary() is OpenAI CLIP's), or load the model from a folder with vocab.json and merges.txt.");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var texts = classNames.SelectMany(c => templates.Select(t => PromptTemplates.Format(t, c))).ToList();
        var chunks = new List<Tensor>();
        for (int start = 0; start < texts.Count; start += textBatchSize)
        {
            var batch = texts.GetRange(start, Math.Min(textBatchSize, texts.Count - start));
            var ids = tokenizer.EncodeBatch(batch, model.Config.Text.ContextLength, device: model.Device);
            chunks.Add(model.EncodeTextNormalized(ids).to_type(ScalarType.Float32));
        }
        var all = cat(chunks, 0).view(classNames.Count, templates.Count, -1);
        var classEmbeddings = ClipModel.Normalize(all.mean(new long[] { 1 }));
        return new ZeroShotClassifier(model, classNames.ToArray(), classEmbeddings.MoveToOuterDisposeScope(), imageEncoder);
    }

    /// <summary>The device the model (and so this classifier) runs on; input pixels are moved there.</summary>
    public Device Device => _model.Device;

    /// <summary>The element type of the model's weights; the image tower casts input pixels to it.</summary>
    public ScalarType DType => _model.DType;

    /// <summary>
    /// Logits <c>[N, classes]</c> (float32, on the model's device) for pixel values <c>[N, 3, S, S]</c> on any device
    /// and in any floating-point type: they are moved to the model's device and the image tower computes in the model's dtype.
    /// </summary>
    public Tensor Logits(Tensor pixelValues)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        using var scope = NewDisposeScope();
        var image = ClipModel.Normalize(_imageEncoder(pixelValues.to(_model.Device)).to_type(ScalarType.Float32));
        var s = _model.LogitScale.detach().exp().to_type(ScalarType.Float32);
        return (s * image.matmul(ClassEmbeddings.t())).MoveToOuterDisposeScope();
    }

    /// <summary>Softmax probabilities <c>[N, classes]</c>.</summary>
    public Tensor Probabilities(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        return Logits(pixelValues).softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Predicted class index per image, <c>[N]</c> int64.</summary>
    public Tensor PredictIndices(Tensor pixelValues)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Logits(pixelValues).argmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The <paramref name="topK"/> most probable classes of each image, best first.</summary>
    public IReadOnlyList<IReadOnlyList<ZeroShotPrediction>> Predict(Tensor pixelValues, int topK = 5)
    {
        if (topK < 1) throw new ArgumentOutOfRangeException(nameof(topK), topK, "topK must be at least 1.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var probs = Probabilities(pixelValues).cpu();
        var k = Math.Min(topK, ClassNames.Count);
        var (values, indices) = probs.topk(k, -1);
        var v = values.data<float>().ToArray();
        var ix = indices.data<long>().ToArray();
        var result = new List<IReadOnlyList<ZeroShotPrediction>>();
        for (int n = 0; n < probs.shape[0]; n++)
            result.Add(Enumerable.Range(0, k).Select(j => new ZeroShotPrediction((int)ix[n * k + j], ClassNames[(int)ix[n * k + j]], v[n * k + j])).ToList());
        return result;
    }

    /// <summary>Loads, preprocesses and classifies one image file.</summary>
    public IReadOnlyList<ZeroShotPrediction> Classify(string imagePath, int topK = 5)
    {
        using var scope = NewDisposeScope();
        var pixels = _model.ImageProcessor.Load(imagePath).unsqueeze(0).to(_model.DType, _model.Device);
        return Predict(pixels, topK)[0];
    }

    /// <summary>
    /// Loads, preprocesses and classifies image files, <paramref name="batchSize"/> at a time (decoded in parallel):
    /// the <paramref name="topK"/> most probable classes of each, in the order of <paramref name="imagePaths"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is not a readable image; the message names it.</exception>
    public IReadOnlyList<IReadOnlyList<ZeroShotPrediction>> Classify(IReadOnlyList<string> imagePaths, int topK = 5, int batchSize = 32,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        var result = new List<IReadOnlyList<ZeroShotPrediction>>(imagePaths.Count);
        for (int start = 0; start < imagePaths.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var batch = imagePaths.Skip(start).Take(batchSize).ToList();
            var pixels = _model.ImageProcessor.LoadBatch(batch, cancellationToken).to(_model.DType, _model.Device);
            result.AddRange(Predict(pixels, topK));
        }
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => ClassEmbeddings.Dispose();
}
