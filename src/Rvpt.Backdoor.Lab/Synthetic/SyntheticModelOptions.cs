using Rvpt.Clip;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// The architecture of the lab's CLIP (OpenAI's ViT CLIP, sized for a CPU). Defaults are the first demo's model: 8-pixel
/// patches (16 patch tokens at 32 px), a vision tower of width 128 with 4 blocks and 4 heads, a text tower of width 128
/// with 2 blocks, a 64-dimensional joint space (about 1.3M parameters).
/// </summary>
public sealed record SyntheticModelOptions
{
    /// <summary>Side of a square patch in pixels; must divide the world's image size. Default 8.</summary>
    public int PatchSize { get; init; } = 8;

    /// <summary>Width of the vision tower. Default 128.</summary>
    public int VisionWidth { get; init; } = 128;

    /// <summary>Residual blocks of the vision tower. Default 4.</summary>
    public int VisionLayers { get; init; } = 4;

    /// <summary>Attention heads of the vision tower (must divide its width). Default 4.</summary>
    public int VisionHeads { get; init; } = 4;

    /// <summary>Width of the text tower. Default 128.</summary>
    public int TextWidth { get; init; } = 128;

    /// <summary>Residual blocks of the text tower. Default 2.</summary>
    public int TextLayers { get; init; } = 2;

    /// <summary>Attention heads of the text tower (must divide its width). Default 4.</summary>
    public int TextHeads { get; init; } = 4;

    /// <summary>Dimension of the joint image-text space. Default 64.</summary>
    public int EmbedDim { get; init; } = 64;

    /// <summary>The CLIP config for images of <paramref name="imageSize"/> pixels and a tokenizer of <paramref name="vocabularySize"/> ids.</summary>
    /// <exception cref="ArgumentException">A setting is invalid for that size (the message names it).</exception>
    public ClipConfig ToConfig(int imageSize, int vocabularySize)
    {
        if (PatchSize < 1 || imageSize % PatchSize != 0)
            throw new ArgumentException($"PatchSize {PatchSize} must divide the image size {imageSize}.", nameof(PatchSize));
        var config = new ClipConfig
        {
            EmbedDim = EmbedDim,
            Vision = new ClipVisionConfig { ImageSize = imageSize, PatchSize = PatchSize, Width = VisionWidth, Layers = VisionLayers, Heads = VisionHeads },
            Text = new ClipTextConfig { ContextLength = SyntheticClip.ContextLength, VocabSize = vocabularySize, Width = TextWidth, Layers = TextLayers, Heads = TextHeads },
        };
        config.Validate();
        return config;
    }
}
