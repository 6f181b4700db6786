namespace Rvpt.Clip;

/// <summary>Hyper-parameters of CLIP's ViT image tower.</summary>
public sealed record ClipVisionConfig
{
    /// <summary>Input resolution in pixels (square). Default 224.</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Patch size in pixels. Default 32 (ViT-B/32).</summary>
    public int PatchSize { get; init; } = 32;

    /// <summary>Residual-stream width. Default 768.</summary>
    public int Width { get; init; } = 768;

    /// <summary>Number of residual attention blocks. Default 12.</summary>
    public int Layers { get; init; } = 12;

    /// <summary>Attention heads. Default 12 (OpenAI's rule: <see cref="Width"/> / 64).</summary>
    public int Heads { get; init; } = 12;

    /// <summary>Hidden width of each block's MLP; 0 means 4 x <see cref="Width"/>. Default 0.</summary>
    public int MlpWidth { get; init; }

    /// <summary>Patches per side of the grid: <see cref="ImageSize"/> / <see cref="PatchSize"/>.</summary>
    public int GridSize => ImageSize / PatchSize;

    /// <summary>Tokens per image: one class token plus <see cref="GridSize"/>².</summary>
    public int TokenCount => GridSize * GridSize + 1;

    /// <summary>The MLP width actually used (resolves the 0 default).</summary>
    public int ResolvedMlpWidth => MlpWidth > 0 ? MlpWidth : 4 * Width;

    internal void Validate()
    {
        Positive(ImageSize, nameof(ImageSize));
        Positive(PatchSize, nameof(PatchSize));
        Positive(Width, nameof(Width));
        Positive(Layers, nameof(Layers));
        Positive(Heads, nameof(Heads));
        if (ImageSize % PatchSize != 0)
            throw new ArgumentException($"Vision ImageSize {ImageSize} is not a multiple of PatchSize {PatchSize}.");
        if (Width % Heads != 0)
            throw new ArgumentException($"Vision Width {Width} is not divisible by Heads {Heads}.");
        if (MlpWidth < 0)
            throw new ArgumentException($"Vision MlpWidth must be >= 0 (0 = 4 x Width), got {MlpWidth}.");
    }

    internal static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} must be positive, got {value}.");
    }
}
