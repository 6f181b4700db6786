using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>Result of <see cref="ClipModel.forward"/>. Owns its tensors; dispose it when done.</summary>
public sealed class ClipOutput : IDisposable
{
    internal ClipOutput(Tensor logitsPerImage, Tensor logitsPerText, Tensor imageEmbeds, Tensor textEmbeds)
    {
        LogitsPerImage = logitsPerImage;
        LogitsPerText = logitsPerText;
        ImageEmbeds = imageEmbeds;
        TextEmbeds = textEmbeds;
    }

    /// <summary><c>exp(logit_scale) * cos(image_i, text_j)</c>, <c>[images, texts]</c>.</summary>
    public Tensor LogitsPerImage { get; }

    /// <summary>The transpose of <see cref="LogitsPerImage"/>, <c>[texts, images]</c>.</summary>
    public Tensor LogitsPerText { get; }

    /// <summary>Raw (not normalised) image embeddings, <c>[images, embedDim]</c>.</summary>
    public Tensor ImageEmbeds { get; }

    /// <summary>Raw (not normalised) text embeddings, <c>[texts, embedDim]</c>.</summary>
    public Tensor TextEmbeds { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        LogitsPerText.Dispose();
        LogitsPerImage.Dispose();
        ImageEmbeds.Dispose();
        TextEmbeds.Dispose();
    }
}
