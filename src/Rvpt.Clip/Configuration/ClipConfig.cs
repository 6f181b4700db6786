namespace Rvpt.Clip;

/// <summary>
/// Architecture of a CLIP model: the two towers, the joint embedding size, the activation and the LayerNorm epsilon.
/// Presets give OpenAI's released models; <see cref="FromHuggingFaceJson"/> and <see cref="FromMetadataJson"/> read
/// the configs that checkpoints carry.
/// </summary>
public sealed record ClipConfig
{
    /// <summary>Size of the joint image-text embedding. Default 512.</summary>
    public int EmbedDim { get; init; } = 512;

    /// <summary>The image tower. Default: ViT-B/32.</summary>
    public ClipVisionConfig Vision { get; init; } = new();

    /// <summary>The text tower. Default: OpenAI's 12-layer, 512-wide transformer.</summary>
    public ClipTextConfig Text { get; init; } = new();

    /// <summary>MLP activation. Default <see cref="ClipActivation.QuickGelu"/> (OpenAI).</summary>
    public ClipActivation Activation { get; init; } = ClipActivation.QuickGelu;

    /// <summary>LayerNorm epsilon. Default 1e-5.</summary>
    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>OpenAI ViT-B/32: 224 px, patch 32, 12 x 768 vision, 12 x 512 text, embed 512.</summary>
    public static ClipConfig ViTB32 { get; } = new();

    /// <summary>OpenAI ViT-B/16: as ViT-B/32 with 16-pixel patches.</summary>
    public static ClipConfig ViTB16 { get; } = new() { Vision = new ClipVisionConfig { PatchSize = 16 } };

    /// <summary>OpenAI ViT-L/14: 224 px, patch 14, 24 x 1024 vision (16 heads), 12 x 768 text (12 heads), embed 768.</summary>
    public static ClipConfig ViTL14 { get; } = new()
    {
        EmbedDim = 768,
        Vision = new ClipVisionConfig { PatchSize = 14, Width = 1024, Layers = 24, Heads = 16 },
        Text = new ClipTextConfig { Width = 768, Heads = 12 },
    };

    /// <summary>Looks up a preset by its OpenAI name ("ViT-B/32", "ViT-B/16", "ViT-L/14"; case and '-'/'/' insensitive).</summary>
    /// <exception cref="ArgumentException">The name is not a known preset.</exception>
    public static ClipConfig FromPresetName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Replace("-", "", StringComparison.Ordinal).Replace("/", "", StringComparison.Ordinal).ToUpperInvariant();
        return key switch
        {
            "VITB32" => ViTB32,
            "VITB16" => ViTB16,
            "VITL14" => ViTL14,
            _ => throw new ArgumentException($"Unknown CLIP preset '{name}'. Known presets: ViT-B/32, ViT-B/16, ViT-L/14.", nameof(name)),
        };
    }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        ClipVisionConfig.Positive(EmbedDim, nameof(EmbedDim));
        if (!(LayerNormEps > 0)) throw new ArgumentException($"LayerNormEps must be positive, got {LayerNormEps}.");
        Vision.Validate();
        Text.Validate();
    }

    /// <summary>Reads a Hugging Face <c>CLIPConfig</c> (<c>config.json</c> with <c>text_config</c> and <c>vision_config</c>).</summary>
    /// <exception cref="InvalidDataException">The JSON is malformed or describes an unsupported model.</exception>
    public static ClipConfig FromHuggingFaceJson(string json, string source = "config.json") => ClipConfigJson.ReadHuggingFace(json, source);

    /// <summary>Reads a Hugging Face <c>config.json</c> file.</summary>
    public static ClipConfig FromHuggingFaceFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CLIP config file not found: {path}", path);
        return ClipConfigJson.ReadHuggingFace(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Reads OpenCLIP's <c>open_clip_config.json</c> (<c>{"model_cfg": ..., "preprocess_cfg": ...}</c> as
    /// <c>push_to_hf_hub</c> writes it, or a bare model config as in OpenCLIP's <c>model_configs/*.json</c>) with
    /// OpenCLIP's meanings and defaults: exact GELU unless <c>quick_gelu</c> is true, vision heads = width /
    /// <c>head_width</c>, MLP width = <c>int(width * mlp_ratio)</c>. Options that describe another network are refused.
    /// </summary>
    /// <exception cref="InvalidDataException">The JSON is malformed or describes an unsupported model; the message names the option.</exception>
    public static ClipConfig FromOpenClipJson(string json, string source = "open_clip_config.json") => OpenClipConfigJson.Read(json, source).Config;

    /// <summary>Reads an <c>open_clip_config.json</c> file; see <see cref="FromOpenClipJson"/>.</summary>
    public static ClipConfig FromOpenClipFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"OpenCLIP config file not found: {path}", path);
        return OpenClipConfigJson.Read(File.ReadAllText(path), path).Config;
    }

    /// <summary>
    /// Reads the config JSON kept in a safetensors <c>__metadata__["config"]</c> entry: OpenAI's constructor arguments
    /// (<c>embed_dim</c>, <c>image_resolution</c>, <c>vision_layers</c>, ...) plus <c>vision_heads</c>,
    /// <c>layer_norm_eps</c> and <c>activation</c> where present, or a Hugging Face config.
    /// </summary>
    public static ClipConfig FromMetadataJson(string json, string source = "__metadata__") => ClipConfigJson.ReadMetadata(json, source);

    /// <summary>Writes this config in the OpenAI-argument form used for safetensors metadata.</summary>
    public string ToMetadataJson() => ClipConfigJson.WriteMetadata(this);

    /// <summary>Writes this config as a Hugging Face <c>config.json</c>.</summary>
    public string ToHuggingFaceJson() => ClipConfigJson.WriteHuggingFace(this);

    /// <summary>Total number of parameters of a model with this config.</summary>
    public long ParameterCount
    {
        get
        {
            static long Blocks(int layers, int width, int mlp) =>
                layers * ((3L * width * width + 3 * width) + (width * (long)width + width) + 4L * width + (mlp * (long)width + mlp) + (width * (long)mlp + width));
            var v = Vision;
            long vision = v.Width * 3L * v.PatchSize * v.PatchSize + v.Width + v.TokenCount * (long)v.Width + 4L * v.Width
                          + Blocks(v.Layers, v.Width, v.ResolvedMlpWidth) + v.Width * (long)EmbedDim;
            var t = Text;
            long text = t.VocabSize * (long)t.Width + t.ContextLength * (long)t.Width + 2L * t.Width
                        + Blocks(t.Layers, t.Width, t.ResolvedMlpWidth) + t.Width * (long)EmbedDim;
            return vision + text + 1;
        }
    }
}
