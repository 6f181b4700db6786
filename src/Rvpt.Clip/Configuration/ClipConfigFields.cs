namespace Rvpt.Clip;

/// <summary>Where a <see cref="ClipConfig"/> came from; decides how its fields are named in messages.</summary>
internal enum ClipConfigFormat
{
    /// <summary>A Hugging Face <c>config.json</c>.</summary>
    HuggingFace,

    /// <summary>OpenCLIP's <c>open_clip_config.json</c>.</summary>
    OpenClip,

    /// <summary>The OpenAI-argument JSON in a safetensors <c>__metadata__["config"]</c>.</summary>
    Metadata,

    /// <summary>A <see cref="ClipConfig"/> given in code, or one inferred from the weights.</summary>
    Code,
}

/// <summary>The config values that decide the weights' shapes.</summary>
internal enum ClipConfigField
{
    EmbedDim,
    ImageSize,
    PatchSize,
    VisionWidth,
    VisionLayers,
    VisionMlpWidth,
    ContextLength,
    VocabSize,
    TextWidth,
    TextLayers,
    TextMlpWidth,
}

/// <summary>Names and values of <see cref="ClipConfigField"/>s, in the vocabulary of each config format.</summary>
internal static class ClipConfigFields
{
    public static int Value(ClipConfig c, ClipConfigField field) => field switch
    {
        ClipConfigField.EmbedDim => c.EmbedDim,
        ClipConfigField.ImageSize => c.Vision.ImageSize,
        ClipConfigField.PatchSize => c.Vision.PatchSize,
        ClipConfigField.VisionWidth => c.Vision.Width,
        ClipConfigField.VisionLayers => c.Vision.Layers,
        ClipConfigField.VisionMlpWidth => c.Vision.ResolvedMlpWidth,
        ClipConfigField.ContextLength => c.Text.ContextLength,
        ClipConfigField.VocabSize => c.Text.VocabSize,
        ClipConfigField.TextWidth => c.Text.Width,
        ClipConfigField.TextLayers => c.Text.Layers,
        ClipConfigField.TextMlpWidth => c.Text.ResolvedMlpWidth,
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    public static string Name(ClipConfigFormat format, ClipConfigField field) => format switch
    {
        ClipConfigFormat.HuggingFace => field switch
        {
            ClipConfigField.EmbedDim => "projection_dim",
            ClipConfigField.ImageSize => "vision_config.image_size",
            ClipConfigField.PatchSize => "vision_config.patch_size",
            ClipConfigField.VisionWidth => "vision_config.hidden_size",
            ClipConfigField.VisionLayers => "vision_config.num_hidden_layers",
            ClipConfigField.VisionMlpWidth => "vision_config.intermediate_size",
            ClipConfigField.ContextLength => "text_config.max_position_embeddings",
            ClipConfigField.VocabSize => "text_config.vocab_size",
            ClipConfigField.TextWidth => "text_config.hidden_size",
            ClipConfigField.TextLayers => "text_config.num_hidden_layers",
            _ => "text_config.intermediate_size",
        },
        ClipConfigFormat.OpenClip => field switch
        {
            ClipConfigField.EmbedDim => "model_cfg.embed_dim",
            ClipConfigField.ImageSize => "vision_cfg.image_size",
            ClipConfigField.PatchSize => "vision_cfg.patch_size",
            ClipConfigField.VisionWidth => "vision_cfg.width",
            ClipConfigField.VisionLayers => "vision_cfg.layers",
            ClipConfigField.VisionMlpWidth => "vision_cfg.mlp_ratio x width",
            ClipConfigField.ContextLength => "text_cfg.context_length",
            ClipConfigField.VocabSize => "text_cfg.vocab_size",
            ClipConfigField.TextWidth => "text_cfg.width",
            ClipConfigField.TextLayers => "text_cfg.layers",
            _ => "text_cfg.mlp_ratio x width",
        },
        ClipConfigFormat.Metadata => field switch
        {
            ClipConfigField.EmbedDim => "embed_dim",
            ClipConfigField.ImageSize => "image_resolution",
            ClipConfigField.PatchSize => "vision_patch_size",
            ClipConfigField.VisionWidth => "vision_width",
            ClipConfigField.VisionLayers => "vision_layers",
            ClipConfigField.VisionMlpWidth => "vision_mlp_width",
            ClipConfigField.ContextLength => "context_length",
            ClipConfigField.VocabSize => "vocab_size",
            ClipConfigField.TextWidth => "transformer_width",
            ClipConfigField.TextLayers => "transformer_layers",
            _ => "text_mlp_width",
        },
        _ => field switch
        {
            ClipConfigField.EmbedDim => "EmbedDim",
            ClipConfigField.ImageSize => "Vision.ImageSize",
            ClipConfigField.PatchSize => "Vision.PatchSize",
            ClipConfigField.VisionWidth => "Vision.Width",
            ClipConfigField.VisionLayers => "Vision.Layers",
            ClipConfigField.VisionMlpWidth => "Vision.MlpWidth",
            ClipConfigField.ContextLength => "Text.ContextLength",
            ClipConfigField.VocabSize => "Text.VocabSize",
            ClipConfigField.TextWidth => "Text.Width",
            ClipConfigField.TextLayers => "Text.Layers",
            _ => "Text.MlpWidth",
        },
    };
}
