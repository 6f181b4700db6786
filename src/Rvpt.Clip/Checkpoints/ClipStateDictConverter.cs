using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Converts CLIP state dicts between Hugging Face and OpenAI key layouts (the mapping of transformers'
/// <c>convert_clip_original_pytorch_to_hf.py</c>): q/k/v projections are packed into <c>in_proj_*</c>, projection
/// matrices are transposed, and HF's <c>position_ids</c> buffers are dropped.
/// </summary>
internal static partial class ClipStateDictConverter
{
    /// <summary>OpenAI checkpoint scalars that describe the architecture and are not weights.</summary>
    public static readonly IReadOnlySet<string> IgnoredOpenAIKeys = new HashSet<string>(StringComparer.Ordinal) { "input_resolution", "context_length", "vocab_size" };

    /// <summary>Detects the layout from the keys; <c>module.</c> prefixes must already be stripped.</summary>
    /// <exception cref="InvalidDataException">Neither layout's keys are present.</exception>
    public static ClipCheckpointLayout DetectLayout(IEnumerable<string> keys, string source)
    {
        bool hf = false, openai = false;
        foreach (var k in keys)
        {
            if (k.StartsWith("vision_model.", StringComparison.Ordinal) || k.StartsWith("text_model.", StringComparison.Ordinal)) hf = true;
            else if (k.StartsWith("visual.", StringComparison.Ordinal) || k.StartsWith("transformer.resblocks.", StringComparison.Ordinal)) openai = true;
        }
        if (hf && !openai) return ClipCheckpointLayout.HuggingFace;
        if (openai && !hf) return ClipCheckpointLayout.OpenAI;
        if (hf && openai) throw new InvalidDataException($"{source}: the checkpoint mixes Hugging Face (vision_model.*) and OpenAI (visual.*) keys.");
        throw new InvalidDataException($"{source}: not a CLIP checkpoint: no 'visual.*' (OpenAI/OpenCLIP) or 'vision_model.*' (Hugging Face) keys found.");
    }

    /// <summary>Removes DataParallel/DDP <c>module.</c> prefixes.</summary>
    public static Dictionary<string, Tensor> StripModulePrefix(Dictionary<string, Tensor> stateDict) => StripModulePrefix<Tensor>(stateDict);

    internal static Dictionary<string, T> StripModulePrefix<T>(Dictionary<string, T> stateDict)
    {
        if (!stateDict.Keys.Any(k => k.StartsWith("module.", StringComparison.Ordinal))) return stateDict;
        return stateDict.ToDictionary(p => p.Key.StartsWith("module.", StringComparison.Ordinal) ? p.Key["module.".Length..] : p.Key, p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Maps a Hugging Face state dict to OpenAI keys. Input tensors that are reused are aliased; new tensors (packed
    /// q/k/v, transposes) are created. Unknown keys are kept under their own names so that validation reports them.
    /// Consumed input tensors are not disposed.
    /// </summary>
    public static Dictionary<string, Tensor> HuggingFaceToOpenAI(IReadOnlyDictionary<string, Tensor> hf) =>
        HuggingFaceToOpenAI(hf, t => t.t(), parts => cat(parts, 0));

    /// <summary>The same mapping on header information only (shapes and dtypes), so a config can be checked before loading.</summary>
    internal static Dictionary<string, ClipWeightInfo> HuggingFaceToOpenAI(IReadOnlyDictionary<string, ClipWeightInfo> hf) =>
        HuggingFaceToOpenAI(hf, w => new ClipWeightInfo(w.Shape.Reverse().ToArray(), w.DType),
            parts => new ClipWeightInfo([parts.Sum(p => p.Shape.Length > 0 ? p.Shape[0] : 1), .. parts[0].Shape.Skip(1)], parts[0].DType));

    private static Dictionary<string, T> HuggingFaceToOpenAI<T>(IReadOnlyDictionary<string, T> hf, Func<T, T> transpose, Func<T[], T> concat)
    {
        var result = new Dictionary<string, T>(StringComparer.Ordinal);
        var pending = new Dictionary<string, Dictionary<string, T>>(StringComparer.Ordinal); // in_proj key -> q/k/v parts
        foreach (var (key, value) in hf)
        {
            if (key.EndsWith(".position_ids", StringComparison.Ordinal)) continue;
            var m = QkvPattern().Match(key);
            if (m.Success)
            {
                var target = $"{TowerPrefix(m.Groups["tower"].Value)}transformer.resblocks.{m.Groups["i"].Value}.attn.in_proj_{m.Groups["kind"].Value}";
                if (!pending.TryGetValue(target, out var parts)) pending[target] = parts = new Dictionary<string, T>(StringComparer.Ordinal);
                parts[m.Groups["p"].Value] = value;
                continue;
            }
            switch (key)
            {
                case "text_projection.weight": result["text_projection"] = transpose(value); continue;
                case "visual_projection.weight": result["visual.proj"] = transpose(value); continue;
            }
            result[MapKey(key) ?? key] = value;
        }
        foreach (var (target, parts) in pending)
        {
            if (parts.Count == 3)
            {
                result[target] = concat(new[] { parts["q"], parts["k"], parts["v"] });
                continue;
            }
            // Incomplete triple: keep the parts under their HF names so the strict check reports them and the missing in_proj key.
            foreach (var (p, t) in parts) result[$"{target} ({p}_proj, incomplete q/k/v)"] = t;
        }
        return result;
    }

    /// <summary>Maps an OpenAI state dict to Hugging Face keys (for saving). The caller disposes the created tensors.</summary>
    public static Dictionary<string, Tensor> OpenAIToHuggingFace(IReadOnlyDictionary<string, Tensor> openai)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in openai)
        {
            var m = InProjPattern().Match(key);
            if (m.Success)
            {
                var prefix = m.Groups["visual"].Success ? "vision_model" : "text_model";
                var kind = m.Groups["kind"].Value;
                var chunks = value.chunk(3, 0);
                var names = new[] { "q", "k", "v" };
                for (int j = 0; j < 3; j++)
                    result[$"{prefix}.encoder.layers.{m.Groups["i"].Value}.self_attn.{names[j]}_proj.{kind}"] = chunks[j].contiguous();
                continue;
            }
            switch (key)
            {
                case "text_projection": result["text_projection.weight"] = value.t().contiguous(); continue;
                case "visual.proj": result["visual_projection.weight"] = value.t().contiguous(); continue;
            }
            result[ReverseKey(key)] = value;
        }
        return result;
    }

    private static string TowerPrefix(string tower) => tower == "vision_model" ? "visual." : "";

    private static string? MapKey(string key)
    {
        var simple = key switch
        {
            "text_model.embeddings.token_embedding.weight" => "token_embedding.weight",
            "text_model.embeddings.position_embedding.weight" => "positional_embedding",
            "vision_model.embeddings.class_embedding" => "visual.class_embedding",
            "vision_model.embeddings.patch_embedding.weight" => "visual.conv1.weight",
            "vision_model.embeddings.position_embedding.weight" => "visual.positional_embedding",
            "logit_scale" => "logit_scale",
            _ => null,
        };
        if (simple is not null) return simple;
        foreach (var (hfPrefix, oaPrefix) in new[]
                 {
                     ("text_model.final_layer_norm.", "ln_final."), ("vision_model.pre_layrnorm.", "visual.ln_pre."),
                     ("vision_model.post_layernorm.", "visual.ln_post."),
                 })
        {
            if (key.StartsWith(hfPrefix, StringComparison.Ordinal)) return oaPrefix + key[hfPrefix.Length..];
        }
        var m = LayerPattern().Match(key);
        if (!m.Success) return null;
        var rest = m.Groups["rest"].Value;
        var mapped = rest switch
        {
            _ when rest.StartsWith("self_attn.out_proj.", StringComparison.Ordinal) => "attn.out_proj." + rest["self_attn.out_proj.".Length..],
            _ when rest.StartsWith("layer_norm1.", StringComparison.Ordinal) => "ln_1." + rest["layer_norm1.".Length..],
            _ when rest.StartsWith("layer_norm2.", StringComparison.Ordinal) => "ln_2." + rest["layer_norm2.".Length..],
            _ when rest.StartsWith("mlp.fc1.", StringComparison.Ordinal) => "mlp.c_fc." + rest["mlp.fc1.".Length..],
            _ when rest.StartsWith("mlp.fc2.", StringComparison.Ordinal) => "mlp.c_proj." + rest["mlp.fc2.".Length..],
            _ => null,
        };
        return mapped is null ? null : $"{TowerPrefix(m.Groups["tower"].Value)}transformer.resblocks.{m.Groups["i"].Value}.{mapped}";
    }

    private static string ReverseKey(string key)
    {
        var simple = key switch
        {
            "token_embedding.weight" => "text_model.embeddings.token_embedding.weight",
            "positional_embedding" => "text_model.embeddings.position_embedding.weight",
            "visual.class_embedding" => "vision_model.embeddings.class_embedding",
            "visual.conv1.weight" => "vision_model.embeddings.patch_embedding.weight",
            "visual.positional_embedding" => "vision_model.embeddings.position_embedding.weight",
            "logit_scale" => "logit_scale",
            _ => null,
        };
        if (simple is not null) return simple;
        foreach (var (oaPrefix, hfPrefix) in new[]
                 {
                     ("ln_final.", "text_model.final_layer_norm."), ("visual.ln_pre.", "vision_model.pre_layrnorm."),
                     ("visual.ln_post.", "vision_model.post_layernorm."),
                 })
        {
            if (key.StartsWith(oaPrefix, StringComparison.Ordinal)) return hfPrefix + key[oaPrefix.Length..];
        }
        var m = BlockPattern().Match(key);
        if (!m.Success) throw new ArgumentException($"No Hugging Face name for OpenAI key '{key}'.");
        var tower = m.Groups["visual"].Success ? "vision_model" : "text_model";
        var rest = m.Groups["rest"].Value
            .Replace("attn.out_proj.", "self_attn.out_proj.", StringComparison.Ordinal)
            .Replace("ln_1.", "layer_norm1.", StringComparison.Ordinal)
            .Replace("ln_2.", "layer_norm2.", StringComparison.Ordinal)
            .Replace("mlp.c_fc.", "mlp.fc1.", StringComparison.Ordinal)
            .Replace("mlp.c_proj.", "mlp.fc2.", StringComparison.Ordinal);
        return $"{tower}.encoder.layers.{m.Groups["i"].Value}.{rest}";
    }

    [GeneratedRegex(@"^(?<tower>vision_model|text_model)\.encoder\.layers\.(?<i>\d+)\.self_attn\.(?<p>[qkv])_proj\.(?<kind>weight|bias)$")]
    private static partial Regex QkvPattern();

    [GeneratedRegex(@"^(?<tower>vision_model|text_model)\.encoder\.layers\.(?<i>\d+)\.(?<rest>.+)$")]
    private static partial Regex LayerPattern();

    [GeneratedRegex(@"^(?<visual>visual\.)?transformer\.resblocks\.(?<i>\d+)\.attn\.in_proj_(?<kind>weight|bias)$")]
    private static partial Regex InProjPattern();

    [GeneratedRegex(@"^(?<visual>visual\.)?transformer\.resblocks\.(?<i>\d+)\.(?<rest>.+)$")]
    private static partial Regex BlockPattern();
}
