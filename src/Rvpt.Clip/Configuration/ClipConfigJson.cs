using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rvpt.Clip;

/// <summary>Reads and writes <see cref="ClipConfig"/> in Hugging Face and OpenAI-metadata JSON forms.</summary>
internal static class ClipConfigJson
{
    public static ClipConfig ReadHuggingFace(string json, string source)
    {
        var root = Parse(json, source);
        var text = root["text_config"] as JsonObject ?? new JsonObject();
        var vision = root["vision_config"] as JsonObject ?? new JsonObject();
        var textAct = Str(text, "hidden_act", source) ?? "quick_gelu";
        var visionAct = Str(vision, "hidden_act", source) ?? "quick_gelu";
        if (!string.Equals(textAct, visionAct, StringComparison.Ordinal))
            throw new InvalidDataException($"{source}: text hidden_act '{textAct}' differs from vision hidden_act '{visionAct}'; one activation for both towers is supported.");
        var textEps = Dbl(text, "layer_norm_eps", source) ?? 1e-5;
        var visionEps = Dbl(vision, "layer_norm_eps", source) ?? 1e-5;
        if (textEps != visionEps)
            throw new InvalidDataException($"{source}: text layer_norm_eps {textEps} differs from vision layer_norm_eps {visionEps}.");
        var channels = Int(vision, "num_channels", source) ?? 3;
        if (channels != 3)
            throw new InvalidDataException($"{source}: vision_config.num_channels is {channels}; CLIP expects 3 (RGB).");

        var config = new ClipConfig
        {
            EmbedDim = Int(root, "projection_dim", source) ?? 512,
            Activation = ParseActivation(textAct, source),
            LayerNormEps = textEps,
            Text = new ClipTextConfig
            {
                VocabSize = Int(text, "vocab_size", source) ?? 49408,
                Width = Int(text, "hidden_size", source) ?? 512,
                MlpWidth = CanonicalMlp(Int(text, "hidden_size", source) ?? 512, Int(text, "intermediate_size", source)),
                Layers = Int(text, "num_hidden_layers", source) ?? 12,
                Heads = Int(text, "num_attention_heads", source) ?? 8,
                ContextLength = Int(text, "max_position_embeddings", source) ?? 77,
            },
            Vision = new ClipVisionConfig
            {
                Width = Int(vision, "hidden_size", source) ?? 768,
                MlpWidth = CanonicalMlp(Int(vision, "hidden_size", source) ?? 768, Int(vision, "intermediate_size", source)),
                Layers = Int(vision, "num_hidden_layers", source) ?? 12,
                Heads = Int(vision, "num_attention_heads", source) ?? 12,
                ImageSize = Int(vision, "image_size", source) ?? 224,
                PatchSize = Int(vision, "patch_size", source) ?? 32,
            },
        };
        return Checked(config, source);
    }

    public static ClipConfig ReadMetadata(string json, string source)
    {
        var root = Parse(json, source);
        if (root.ContainsKey("text_config") || root.ContainsKey("vision_config"))
            return ReadHuggingFace(json, source);

        int Required(string key) => Int(root, key, source)
            ?? throw new InvalidDataException($"{source}: config is missing '{key}'.");

        var visionWidth = Required("vision_width");
        var textWidth = Required("transformer_width");
        var config = new ClipConfig
        {
            EmbedDim = Required("embed_dim"),
            Activation = ParseActivation(Str(root, "activation", source) ?? (Bool(root, "quick_gelu", source) == false ? "gelu" : "quick_gelu"), source),
            LayerNormEps = Dbl(root, "layer_norm_eps", source) ?? 1e-5,
            Vision = new ClipVisionConfig
            {
                ImageSize = Required("image_resolution"),
                PatchSize = Required("vision_patch_size"),
                Width = visionWidth,
                Layers = Required("vision_layers"),
                Heads = Int(root, "vision_heads", source) ?? Math.Max(1, visionWidth / 64),
                MlpWidth = CanonicalMlp(visionWidth, Int(root, "vision_mlp_width", source)),
            },
            Text = new ClipTextConfig
            {
                ContextLength = Int(root, "context_length", source) ?? 77,
                VocabSize = Int(root, "vocab_size", source) ?? 49408,
                Width = textWidth,
                Layers = Required("transformer_layers"),
                Heads = Int(root, "transformer_heads", source) ?? Math.Max(1, textWidth / 64),
                MlpWidth = CanonicalMlp(textWidth, Int(root, "text_mlp_width", source)),
            },
        };
        return Checked(config, source);
    }

    public static string WriteMetadata(ClipConfig c)
    {
        var o = new JsonObject
        {
            ["embed_dim"] = c.EmbedDim,
            ["image_resolution"] = c.Vision.ImageSize,
            ["vision_layers"] = c.Vision.Layers,
            ["vision_width"] = c.Vision.Width,
            ["vision_patch_size"] = c.Vision.PatchSize,
            ["vision_heads"] = c.Vision.Heads,
            ["vision_mlp_width"] = c.Vision.ResolvedMlpWidth,
            ["context_length"] = c.Text.ContextLength,
            ["vocab_size"] = c.Text.VocabSize,
            ["transformer_width"] = c.Text.Width,
            ["transformer_heads"] = c.Text.Heads,
            ["transformer_layers"] = c.Text.Layers,
            ["text_mlp_width"] = c.Text.ResolvedMlpWidth,
            ["layer_norm_eps"] = c.LayerNormEps,
            ["activation"] = ActivationName(c.Activation),
        };
        return o.ToJsonString();
    }

    public static string WriteHuggingFace(ClipConfig c)
    {
        var act = ActivationName(c.Activation);
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("CLIPModel"),
            ["model_type"] = "clip",
            ["projection_dim"] = c.EmbedDim,
            ["logit_scale_init_value"] = 2.6592,
            ["torch_dtype"] = "float32",
            ["text_config"] = new JsonObject
            {
                ["model_type"] = "clip_text_model",
                ["vocab_size"] = c.Text.VocabSize,
                ["hidden_size"] = c.Text.Width,
                ["intermediate_size"] = c.Text.ResolvedMlpWidth,
                ["projection_dim"] = c.EmbedDim,
                ["num_hidden_layers"] = c.Text.Layers,
                ["num_attention_heads"] = c.Text.Heads,
                ["max_position_embeddings"] = c.Text.ContextLength,
                ["hidden_act"] = act,
                ["layer_norm_eps"] = c.LayerNormEps,
                ["bos_token_id"] = c.Text.VocabSize - 2,
                ["eos_token_id"] = c.Text.VocabSize - 1,
            },
            ["vision_config"] = new JsonObject
            {
                ["model_type"] = "clip_vision_model",
                ["hidden_size"] = c.Vision.Width,
                ["intermediate_size"] = c.Vision.ResolvedMlpWidth,
                ["projection_dim"] = c.EmbedDim,
                ["num_hidden_layers"] = c.Vision.Layers,
                ["num_attention_heads"] = c.Vision.Heads,
                ["num_channels"] = 3,
                ["image_size"] = c.Vision.ImageSize,
                ["patch_size"] = c.Vision.PatchSize,
                ["hidden_act"] = act,
                ["layer_norm_eps"] = c.LayerNormEps,
            },
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>0 stands for the standard 4 x width, so configs from different sources compare equal.</summary>
    internal static int CanonicalMlp(int width, int? mlp) => mlp is null || mlp == 4 * width ? 0 : mlp.Value;

    private static string ActivationName(ClipActivation a) => a == ClipActivation.QuickGelu ? "quick_gelu" : "gelu";

    internal static ClipActivation ParseActivation(string name, string source) => name switch
    {
        "quick_gelu" => ClipActivation.QuickGelu,
        "gelu" => ClipActivation.Gelu,
        _ => throw new InvalidDataException($"{source}: unsupported activation '{name}' (expected 'quick_gelu' or 'gelu')."),
    };

    internal static ClipConfig Checked(ClipConfig config, string source)
    {
        try
        {
            config.Validate();
            return config;
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: invalid CLIP config: {e.Message}", e);
        }
    }

    internal static JsonObject Parse(string json, string source)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject
                   ?? throw new InvalidDataException($"{source}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: malformed JSON: {e.Message}", e);
        }
    }

    internal static JsonNode? Node(JsonObject o, string key) => o.TryGetPropertyValue(key, out var n) ? n : null;

    internal static int? Int(JsonObject o, string key, string source)
    {
        var n = Node(o, key);
        if (n is null) return null;
        try
        {
            if (n.GetValueKind() == JsonValueKind.String)
                return int.Parse(n.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            return n.GetValue<int>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw new InvalidDataException($"{source}: '{key}' must be an integer, got {n.ToJsonString()}.", e);
        }
    }

    internal static double? Dbl(JsonObject o, string key, string source)
    {
        var n = Node(o, key);
        if (n is null) return null;
        try
        {
            if (n.GetValueKind() == JsonValueKind.String)
                return double.Parse(n.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture);
            return n.GetValue<double>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: '{key}' must be a number, got {n.ToJsonString()}.", e);
        }
    }

    internal static string? Str(JsonObject o, string key, string source)
    {
        var n = Node(o, key);
        if (n is null) return null;
        if (n.GetValueKind() != JsonValueKind.String)
            throw new InvalidDataException($"{source}: '{key}' must be a string, got {n.ToJsonString()}.");
        return n.GetValue<string>();
    }

    internal static bool? Bool(JsonObject o, string key, string source)
    {
        var n = Node(o, key);
        if (n is null) return null;
        return n.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{source}: '{key}' must be true or false, got {n.ToJsonString()}."),
        };
    }
}
