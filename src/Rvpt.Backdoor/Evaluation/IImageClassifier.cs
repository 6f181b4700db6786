using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>Anything that classifies CLIP-normalised images: plain zero-shot CLIP, CLIP with prompts, a linear probe.</summary>
public interface IImageClassifier
{
    /// <summary>Class names, in label order.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>The device the classifier's model runs on: where <see cref="BackdoorEvaluator"/> puts the pixels by default.</summary>
    Device Device { get; }

    /// <summary>The element type of the classifier's model: the dtype <see cref="BackdoorEvaluator"/> gives the pixels by default.</summary>
    ScalarType DType { get; }

    /// <summary>Predicted class indices <c>[N]</c> (int64) for normalised pixels <c>[N, 3, S, S]</c>.</summary>
    Tensor Predict(Tensor normalizedPixels);
}
