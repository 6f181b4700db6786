using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>Zero-shot top-1 accuracy of a prompted model on a labelled image set.</summary>
public static class PromptedAccuracy
{
    /// <summary>
    /// Zero-shot top-1 accuracy of the prompted model (prompts as they are, eval transform) on <paramref name="data"/>,
    /// with its class names and the given templates, computed on the model's device and dtype; NaN for an empty set.
    /// </summary>
    /// <param name="prompts">The prompts and, through them, the CLIP model (it needs a tokenizer).</param>
    /// <param name="data">Images and labels; its class names are the classifier's classes.</param>
    /// <param name="templates">Prompt templates; null for <see cref="PromptTemplates.APhotoOfA"/>.</param>
    /// <param name="batchSize">Images per forward pass. Default 64.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public static double Evaluate(DeepPromptInjector prompts, ILabeledImageSource data, IReadOnlyList<string>? templates = null,
        int batchSize = 64, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(data);
        var clip = prompts.Clip;
        using var classifier = ZeroShotClassifier.Create(clip, data.ClassNames, templates ?? PromptTemplates.APhotoOfA, imageEncoder: prompts.EncodeImage);
        var loader = new BatchLoader(data, clip.ImageProcessor, new BatchLoaderOptions { BatchSize = batchSize, Shuffle = false, Augment = false });
        long correct = 0, total = 0;
        using var noGrad = no_grad();
        foreach (var batch in loader.Epoch(0, cancellationToken))
        {
            using var b = batch;
            using var scope = NewDisposeScope();
            var predicted = classifier.PredictIndices(batch.Images.to(clip.DType, clip.Device)).cpu();
            correct += predicted.eq(batch.Labels).sum().item<long>();
            total += batch.Count;
        }
        return total == 0 ? double.NaN : (double)correct / total;
    }
}
