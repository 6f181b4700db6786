using System.Text.Json.Nodes;

namespace Rvpt.Clip;

/// <summary>
/// Finds the config that comes with a checkpoint. Precedence: the safetensors <c>__metadata__["config"]</c>; then,
/// beside OpenAI-layout weights, OpenCLIP's <c>open_clip_config.json</c> (as <c>push_to_hf_hub</c> writes it); then,
/// beside Hugging Face-layout weights, <c>config.json</c>. Also reads the image normalisation (OpenCLIP's
/// <c>preprocess_cfg</c> mean and std, in the file or in <c>__metadata__["preprocess_cfg"]</c>).
/// </summary>
internal static class ClipCheckpointConfigFinder
{
    /// <summary>The OpenCLIP config file name (open_clip <c>constants.py</c>, <c>HF_CONFIG_NAME</c>).</summary>
    public const string OpenClipConfigFile = "open_clip_config.json";

    /// <summary>The <c>__metadata__</c> key of the image normalisation, in OpenCLIP's <c>preprocess_cfg</c> form.</summary>
    public const string PreprocessMetadataKey = "preprocess_cfg";

    public static FoundConfig Find(string weights, string folder, IReadOnlyDictionary<string, string> metadata, ClipCheckpointLayout layout)
    {
        var (mean, std) = metadata.TryGetValue(PreprocessMetadataKey, out var pre) ? Normalisation(pre, weights + " (__metadata__.preprocess_cfg)") : (null, null);
        if (metadata.TryGetValue("config", out var metaJson))
        {
            var source = weights + " (__metadata__.config)";
            var config = ClipConfig.FromMetadataJson(metaJson, source); // validates the JSON
            var o = ClipConfigJson.Parse(metaJson, source);
            var format = o.ContainsKey("text_config") || o.ContainsKey("vision_config") ? ClipConfigFormat.HuggingFace : ClipConfigFormat.Metadata;
            return new FoundConfig(config, format, source, mean, std, true, []);
        }
        var openClip = Path.Combine(folder, OpenClipConfigFile);
        if (layout == ClipCheckpointLayout.OpenAI && File.Exists(openClip))
        {
            var read = OpenClipConfigJson.Read(File.ReadAllText(openClip), openClip);
            return new FoundConfig(read.Config, ClipConfigFormat.OpenClip, openClip, read.Mean ?? mean, read.Std ?? std, read.UsesClipTokenizer, read.Warnings);
        }
        var hf = Path.Combine(folder, "config.json");
        if (layout == ClipCheckpointLayout.HuggingFace && File.Exists(hf))
            return new FoundConfig(ClipConfig.FromHuggingFaceFile(hf), ClipConfigFormat.HuggingFace, hf, mean, std, true, []);
        return new FoundConfig(null, ClipConfigFormat.Code, null, mean, std, true, []);
    }

    /// <summary>The <c>preprocess_cfg</c> JSON Save writes into <c>__metadata__</c>.</summary>
    public static string NormalisationJson(ClipImageProcessorOptions options) => new JsonObject
    {
        ["mean"] = new JsonArray(options.Mean.Select(v => (JsonNode)(double)v).ToArray()),
        ["std"] = new JsonArray(options.Std.Select(v => (JsonNode)(double)v).ToArray()),
    }.ToJsonString();

    private static (IReadOnlyList<float>? Mean, IReadOnlyList<float>? Std) Normalisation(string json, string source)
    {
        return OpenClipConfigJson.ReadPreprocess(ClipConfigJson.Parse(json, source), source, null, new List<string>());
    }
}

/// <summary>A checkpoint's config (null when it has none), where it came from, and what else the config files said.</summary>
internal sealed record FoundConfig(ClipConfig? Config, ClipConfigFormat Format, string? Source, IReadOnlyList<float>? Mean,
    IReadOnlyList<float>? Std, bool UsesClipTokenizer, IReadOnlyList<string> Warnings);
