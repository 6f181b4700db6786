using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rvpt.Clip;

/// <summary>
/// Reads OpenCLIP's <c>open_clip_config.json</c> (as <c>push_to_hf_hub.save_config_for_hf</c> writes it:
/// <c>{"model_cfg": {...}, "preprocess_cfg": {...}}</c>, or a bare model config as in
/// <c>src/open_clip/model_configs/*.json</c>) into a <see cref="ClipConfig"/> and the image normalisation.
/// </summary>
/// <remarks>
/// Field meanings and defaults follow mlfoundations/open_clip <c>src/open_clip/model.py</c> (<c>CLIPVisionCfg</c>,
/// <c>CLIPTextCfg</c>, <c>_build_vision_tower</c>, <c>_build_text_tower</c>): exact GELU unless
/// <c>quick_gelu</c> is true; vision heads = <c>width / head_width</c> (default head width 64); MLP width =
/// <c>int(width * mlp_ratio)</c>; vision patch size 16 and image size 224 by default; LayerNorm eps 1e-5 unless
/// <c>norm_kwargs.eps</c> says otherwise. Options that build a different network (ResNet, timm or Hugging Face towers,
/// layer scale, attentional pooling, custom blocks, CustomTextCLIP, SigLIP's logit bias, ...) are refused, and so is
/// any key this reader does not know, because it might change the computation.
/// </remarks>
internal static class OpenClipConfigJson
{
    // Keys that do not change the network's weights or inference (training-time, tokenizer or output options).
    private static readonly HashSet<string> IgnoredModelKeys = new(StringComparer.Ordinal) { "init_logit_scale", "cast_dtype", "output_dict" };

    private static readonly HashSet<string> IgnoredVisionKeys = new(StringComparer.Ordinal)
    {
        "patch_dropout", "output_tokens", "attn_pooler_queries", "attn_pooler_heads", "timm_model_pretrained", "timm_pool",
        "timm_proj", "timm_proj_bias", "timm_drop", "timm_drop_path", "timm_model_kwargs",
    };

    private static readonly HashSet<string> IgnoredTextKeys = new(StringComparer.Ordinal)
    {
        "pad_id", "bos_id", "eos_id", "output_tokens", "variable_text", "tokenizer_kwargs", "tokenizer_mode", "hf_model_pretrained",
        "hf_proj_type", "hf_pooler_type", "hf_model_config",
    };

    // Keys this reader understands only at these values (OpenCLIP's defaults, or equivalents for CLIP's pooling).
    private static readonly (string Key, Func<JsonNode?, bool> Supported, string Expected)[] RestrictedVisionKeys =
    {
        ("ls_init_value", IsNull, "null"), ("attentional_pool", IsFalse, "false"), ("no_ln_pre", IsFalse, "false"),
        ("pos_embed_type", n => IsString(n, "learnable"), "\"learnable\""), ("pool_type", n => IsString(n, "tok"), "\"tok\""),
        // ln_post before or after taking the class token is the same for token pooling (LayerNorm is per token).
        ("final_ln_after_pool", IsBool, "true or false"), ("act_kwargs", IsNull, "null"),
        ("block_type", n => IsNull(n) || IsString(n, "default"), "null or \"default\""), ("qk_norm", IsFalse, "false"),
        ("scaled_cosine_attn", IsFalse, "false"), ("scale_heads", IsFalse, "false"), ("scale_attn_inner", IsFalse, "false"),
        ("scale_attn", IsFalse, "false"), ("scale_fc", IsFalse, "false"), ("timm_model_name", IsNull, "null"),
        ("input_patchnorm", IsFalse, "false"), ("global_average_pool", IsFalse, "false"), ("image_seq_len", IsNull, "null"),
    };

    private static readonly (string Key, Func<JsonNode?, bool> Supported, string Expected)[] RestrictedTextKeys =
    {
        ("text_arch", n => IsString(n, "clip"), "\"clip\""), ("ls_init_value", IsNull, "null"), ("embed_cls", IsFalse, "false"),
        ("no_causal_mask", IsFalse, "false"), ("final_ln_after_pool", IsBool, "true or false"),
        ("pool_type", n => IsString(n, "argmax"), "\"argmax\""), ("proj_bias", IsFalse, "false"),
        ("proj_type", n => IsString(n, "linear"), "\"linear\""), ("act_kwargs", IsNull, "null"),
        ("block_type", n => IsNull(n) || IsString(n, "default"), "null or \"default\""), ("qk_norm", IsFalse, "false"),
        ("scaled_cosine_attn", IsFalse, "false"), ("scale_heads", IsFalse, "false"), ("scale_attn_inner", IsFalse, "false"),
        ("scale_attn", IsFalse, "false"), ("scale_fc", IsFalse, "false"), ("hf_model_name", IsNull, "null"),
    };

    private static readonly HashSet<string> PreprocessKeys = new(StringComparer.Ordinal)
    {
        "mean", "std", "size", "mode", "interpolation", "resize_mode", "fill_color",
    };

    /// <summary>Parses the file's JSON. <paramref name="source"/> names the file in messages.</summary>
    public static OpenClipConfig Read(string json, string source)
    {
        var root = ClipConfigJson.Parse(json, source);
        var model = root.ContainsKey("model_cfg")
            ? root["model_cfg"] as JsonObject ?? throw new InvalidDataException($"{source}: 'model_cfg' must be a JSON object.")
            : root;
        var vision = Section(model, "vision_cfg", source);
        var text = Section(model, "text_cfg", source);
        var warnings = new List<string>();

        CheckKeys(model, $"{source} (model_cfg)", new HashSet<string>(StringComparer.Ordinal) { "embed_dim", "quick_gelu", "vision_cfg", "text_cfg", "custom_text" },
            IgnoredModelKeys, Array.Empty<(string, Func<JsonNode?, bool>, string)>());
        if (ClipConfigJson.Bool(model, "custom_text", source) == true)
            throw new InvalidDataException($"{source}: model_cfg.custom_text is true (OpenCLIP's CustomTextCLIP, weights under 'text.*'); only the CLIP class with OpenAI's key layout is supported.");
        var vsrc = $"{source} (model_cfg.vision_cfg)";
        var tsrc = $"{source} (model_cfg.text_cfg)";
        CheckKeys(vision, vsrc, new HashSet<string>(StringComparer.Ordinal) { "image_size", "layers", "width", "head_width", "mlp_ratio", "patch_size", "norm_kwargs" },
            IgnoredVisionKeys, RestrictedVisionKeys);
        CheckKeys(text, tsrc, new HashSet<string>(StringComparer.Ordinal)
            {
                "context_length", "vocab_size", "width", "heads", "layers", "mlp_ratio", "norm_kwargs", "hf_tokenizer_name", "tokenizer_type", "tiktoken_name",
            }, IgnoredTextKeys, RestrictedTextKeys);
        var tokenizerType = ClipConfigJson.Str(text, "tokenizer_type", tsrc) ?? "";
        var hfTokenizer = ClipConfigJson.Str(text, "hf_tokenizer_name", tsrc);
        bool clipTokenizer = hfTokenizer is null && (tokenizerType is "" or "clip");

        if (vision["layers"] is JsonArray)
            throw new InvalidDataException($"{vsrc}: 'layers' is a list, i.e. a ModifiedResNet image tower; only ViT towers are supported.");
        int visionWidth = ClipConfigJson.Int(vision, "width", vsrc) ?? 768;
        int headWidth = ClipConfigJson.Int(vision, "head_width", vsrc) ?? 64;
        if (headWidth <= 0 || visionWidth % headWidth != 0)
            throw new InvalidDataException($"{vsrc}: width {visionWidth} is not a positive multiple of head_width {headWidth}.");
        int textWidth = ClipConfigJson.Int(text, "width", tsrc) ?? 512;
        var eps = LayerNormEps(vision, vsrc);
        var textEps = LayerNormEps(text, tsrc);
        if (eps != textEps)
            throw new InvalidDataException($"{source}: vision LayerNorm eps {eps} differs from text LayerNorm eps {textEps}; one eps for both towers is supported.");

        var config = new ClipConfig
        {
            EmbedDim = ClipConfigJson.Int(model, "embed_dim", source) ?? throw new InvalidDataException($"{source}: model_cfg has no 'embed_dim'."),
            Activation = ClipConfigJson.Bool(model, "quick_gelu", source) == true ? ClipActivation.QuickGelu : ClipActivation.Gelu,
            LayerNormEps = eps,
            Vision = new ClipVisionConfig
            {
                ImageSize = ImageSize(vision, vsrc),
                PatchSize = ClipConfigJson.Int(vision, "patch_size", vsrc) ?? 16,
                Width = visionWidth,
                Layers = ClipConfigJson.Int(vision, "layers", vsrc) ?? 12,
                Heads = visionWidth / headWidth,
                MlpWidth = ClipConfigJson.CanonicalMlp(visionWidth, MlpWidth(vision, visionWidth, vsrc)),
            },
            Text = new ClipTextConfig
            {
                ContextLength = ClipConfigJson.Int(text, "context_length", tsrc) ?? 77,
                VocabSize = ClipConfigJson.Int(text, "vocab_size", tsrc) ?? 49408,
                Width = textWidth,
                Layers = ClipConfigJson.Int(text, "layers", tsrc) ?? 12,
                Heads = ClipConfigJson.Int(text, "heads", tsrc) ?? 8,
                MlpWidth = ClipConfigJson.CanonicalMlp(textWidth, MlpWidth(text, textWidth, tsrc)),
            },
        };
        ClipConfigJson.Checked(config, source);

        IReadOnlyList<float>? mean = null, std = null;
        if (root.ContainsKey("model_cfg") && root["preprocess_cfg"] is { } pre)
        {
            var psrc = $"{source} (preprocess_cfg)";
            (mean, std) = ReadPreprocess(pre as JsonObject ?? throw new InvalidDataException($"{psrc}: expected a JSON object."), psrc, config.Vision.ImageSize, warnings);
        }
        return new OpenClipConfig(config, mean, std, clipTokenizer, warnings);
    }

    /// <summary>
    /// Reads OpenCLIP's <c>preprocess_cfg</c> (open_clip <c>transform.py</c>, <c>PreprocessCfg</c>): the mean and std
    /// (null when absent); settings <see cref="ClipImageProcessor"/> does not reproduce become warnings.
    /// </summary>
    public static (IReadOnlyList<float>? Mean, IReadOnlyList<float>? Std) ReadPreprocess(JsonObject preprocess, string source, int? imageSize, List<string> warnings)
    {
        foreach (var (key, _) in preprocess)
            if (!PreprocessKeys.Contains(key)) warnings.Add($"{source}: unknown preprocessing option '{key}' ignored.");
        var mean = Channels(preprocess, "mean", source);
        var std = Channels(preprocess, "std", source);
        if (std is not null && std.Any(v => !(v > 0)))
            throw new InvalidDataException($"{source}: 'std' values must be positive, got [{string.Join(", ", std)}].");
        var interpolation = ClipConfigJson.Str(preprocess, "interpolation", source) ?? "bicubic";
        var resize = ClipConfigJson.Str(preprocess, "resize_mode", source) ?? "shortest";
        if (interpolation != "bicubic" || resize != "shortest")
            warnings.Add($"{source}: interpolation '{interpolation}' and resize mode '{resize}' were used in training; " +
                         "ClipImageProcessor resizes the shortest side with bicubic interpolation and centre-crops, so results can differ slightly.");
        if (imageSize is { } s && preprocess["size"] is { } size && !SameSize(size, s))
            warnings.Add($"{source}: size {size.ToJsonString()} differs from the vision tower's image size {s}; images are resized to {s}.");
        return (mean, std);
    }

    private static JsonObject Section(JsonObject model, string key, string source) =>
        model[key] as JsonObject ?? throw new InvalidDataException(
            $"{source}: model_cfg has no '{key}' object{(model.ContainsKey("audio_cfg") || model.ContainsKey("genlip_cfg") ? " (not an image-text CLIP)" : "")}.");

    private static void CheckKeys(JsonObject o, string source, HashSet<string> read, HashSet<string> ignored,
        (string Key, Func<JsonNode?, bool> Supported, string Expected)[] restricted)
    {
        foreach (var (key, value) in o)
        {
            if (read.Contains(key) || ignored.Contains(key)) continue;
            var rule = Array.Find(restricted, r => r.Key == key);
            if (rule.Key is null)
                throw new InvalidDataException($"{source}: unknown OpenCLIP option '{key}' = {value?.ToJsonString() ?? "null"}; it may change the network, so the config is not used.");
            if (!rule.Supported(value))
                throw new InvalidDataException($"{source}: '{key}' = {value?.ToJsonString() ?? "null"} is not supported (supported: {rule.Expected}).");
        }
    }

    private static double LayerNormEps(JsonObject tower, string source)
    {
        if (tower["norm_kwargs"] is not { } n) return 1e-5; // nn.LayerNorm's default, which OpenCLIP's LayerNorm keeps
        if (n is not JsonObject kwargs) throw new InvalidDataException($"{source}: 'norm_kwargs' must be an object or null.");
        foreach (var (key, _) in kwargs)
            if (key != "eps") throw new InvalidDataException($"{source}: norm_kwargs.{key} is not supported (only eps).");
        return ClipConfigJson.Dbl(kwargs, "eps", source) ?? 1e-5;
    }

    private static int ImageSize(JsonObject vision, string source)
    {
        if (vision["image_size"] is JsonArray pair)
        {
            if (pair.Count != 2 || pair[0]?.ToJsonString() != pair[1]?.ToJsonString())
                throw new InvalidDataException($"{source}: image_size {pair.ToJsonString()} is not square; only square inputs are supported.");
            return ClipConfigJson.Int(new JsonObject { ["image_size"] = pair[0]?.DeepClone() }, "image_size", source)!.Value;
        }
        return ClipConfigJson.Int(vision, "image_size", source) ?? 224;
    }

    private static int? MlpWidth(JsonObject tower, int width, string source)
    {
        var ratio = ClipConfigJson.Dbl(tower, "mlp_ratio", source);
        if (ratio is null) return null;
        if (!(ratio > 0)) throw new InvalidDataException($"{source}: mlp_ratio must be positive, got {ratio}.");
        return (int)(width * ratio.Value); // OpenCLIP: mlp_width = int(d_model * mlp_ratio)
    }

    private static float[]? Channels(JsonObject o, string key, string source)
    {
        if (o[key] is not { } n) return null;
        if (n is not JsonArray a || a.Count != 3)
            throw new InvalidDataException($"{source}: '{key}' must be a list of 3 numbers (R, G, B), got {n.ToJsonString()}.");
        try
        {
            var values = a.Select(v => v!.GetValue<float>()).ToArray();
            if (values.Any(v => !float.IsFinite(v))) throw new InvalidDataException($"{source}: '{key}' values must be finite, got {n.ToJsonString()}.");
            return values;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidDataException($"{source}: '{key}' must be a list of 3 numbers (R, G, B), got {n.ToJsonString()}.", e);
        }
    }

    private static bool SameSize(JsonNode size, int imageSize) => size switch
    {
        JsonArray a => a.Count == 2 && a.All(v => v?.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() == imageSize),
        _ => size.GetValueKind() == JsonValueKind.Number && size.GetValue<double>() == imageSize,
    };

    private static bool IsNull(JsonNode? n) => n is null;

    private static bool IsFalse(JsonNode? n) => n is null || n.GetValueKind() == JsonValueKind.False;

    private static bool IsBool(JsonNode? n) => n is null || n.GetValueKind() is JsonValueKind.True or JsonValueKind.False;

    private static bool IsString(JsonNode? n, string value) => n?.GetValueKind() == JsonValueKind.String && n.GetValue<string>() == value;
}

/// <summary>
/// What an <c>open_clip_config.json</c> says: the architecture, the image normalisation, whether the text tower uses
/// CLIP's own BPE (no <c>hf_tokenizer_name</c> or other tokenizer type), and notes for the caller.
/// </summary>
internal sealed record OpenClipConfig(ClipConfig Config, IReadOnlyList<float>? Mean, IReadOnlyList<float>? Std, bool UsesClipTokenizer,
    IReadOnlyList<string> Warnings);
