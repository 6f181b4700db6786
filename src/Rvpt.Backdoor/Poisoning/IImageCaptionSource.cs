using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>Image-caption pairs for contrastive fine-tuning. <see cref="LoadPixels01"/> must be thread-safe.</summary>
public interface IImageCaptionSource
{
    /// <summary>Number of pairs.</summary>
    int Count { get; }

    /// <summary>The caption of pair <paramref name="index"/>.</summary>
    string GetCaption(int index);

    /// <summary>A new <c>[3, H, W]</c> float32 CPU tensor in [0, 1] (the caller disposes it).</summary>
    Tensor LoadPixels01(int index);

    /// <summary>A description for messages (file path or item number).</summary>
    string Describe(int index);
}
