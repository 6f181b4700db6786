namespace Rvpt.Clip;

/// <summary>Hyper-parameters of CLIP's causal text transformer.</summary>
public sealed record ClipTextConfig
{
    /// <summary>Maximum number of tokens, including start and end tokens. Default 77.</summary>
    public int ContextLength { get; init; } = 77;

    /// <summary>Vocabulary size. Default 49408 (OpenAI's BPE vocabulary).</summary>
    public int VocabSize { get; init; } = 49408;

    /// <summary>Residual-stream width. Default 512.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Number of residual attention blocks. Default 12.</summary>
    public int Layers { get; init; } = 12;

    /// <summary>Attention heads. Default 8. Not derivable from weights: take it from the checkpoint's config.</summary>
    public int Heads { get; init; } = 8;

    /// <summary>Hidden width of each block's MLP; 0 means 4 x <see cref="Width"/>. Default 0.</summary>
    public int MlpWidth { get; init; }

    /// <summary>The MLP width actually used (resolves the 0 default).</summary>
    public int ResolvedMlpWidth => MlpWidth > 0 ? MlpWidth : 4 * Width;

    internal void Validate()
    {
        ClipVisionConfig.Positive(ContextLength, "Text " + nameof(ContextLength));
        ClipVisionConfig.Positive(VocabSize, "Text " + nameof(VocabSize));
        ClipVisionConfig.Positive(Width, "Text " + nameof(Width));
        ClipVisionConfig.Positive(Layers, "Text " + nameof(Layers));
        ClipVisionConfig.Positive(Heads, "Text " + nameof(Heads));
        if (Width % Heads != 0)
            throw new ArgumentException($"Text Width {Width} is not divisible by Heads {Heads}.");
        if (MlpWidth < 0)
            throw new ArgumentException($"Text MlpWidth must be >= 0 (0 = 4 x Width), got {MlpWidth}.");
    }
}
