using System.Text.Json;
using System.Text.Json.Nodes;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Prompt-only checkpoints: a safetensors file with the prompt tensor (key <c>prompts</c>) whose
/// <c>__metadata__["rvpt_adapter"]</c> holds the adapter config (format, prompted blocks, D, b, width, layers, init,
/// dropout, the class names and templates used in training, and the base model's config and weights signature); the
/// same JSON is written beside it as <c>&lt;file&gt;.json</c> for people. Loading checks the base model and fails
/// clearly on a mismatch, naming what differs.
/// </summary>
/// <remarks>
/// <para>Version 2 (written now) identifies the base weights with a <see cref="ClipWeightsSignature"/>: per weight, a
/// hash of its values rounded to float32, to float16 and to bfloat16. Prompts trained on a model in one dtype load on
/// the same model held in another (float32 training, float16 or bfloat16 deployment), while a model with other
/// weights is refused with the weights that differ named.</para>
/// <para>Version 1 files (a single SHA-256 over names, dtypes, shapes and bytes, <c>base_weights_sha256</c>) still load,
/// checked as before: on the same model held in the dtype they were trained with. They carry no class names.</para>
/// </remarks>
internal static class PromptCheckpoint
{
    /// <summary>The adapter format name written into every checkpoint.</summary>
    public const string Format = "rvpt-deep-visual-prompts";

    /// <summary>Writes the prompts and adapter config atomically.</summary>
    public static void Save(DeepPromptInjector injector, string path)
    {
        ArgumentNullException.ThrowIfNull(injector);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var adapter = AdapterJson(injector);
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["prompts"] = injector.Prompts },
            new Dictionary<string, string> { ["format"] = "pt", ["rvpt_adapter"] = adapter.ToJsonString() });
        // For people: the same, with the per-weight signature summarised (it is in the file's metadata).
        var signature = (JsonObject)adapter["base_weights"]!;
        adapter["base_weights"] = new JsonObject
        {
            ["scheme"] = signature["scheme"]!.DeepClone(), ["digest"] = signature["digest"]!.DeepClone(),
            ["weights"] = ((JsonObject)signature["tensors"]!).Count, ["per_weight_hashes"] = "in the __metadata__ of " + Path.GetFileName(path),
        };
        AtomicFile.WriteAllText(path + ".json", adapter.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Loads prompts onto <paramref name="clip"/>. Checks the adapter format, the tower's width and depth, the base
    /// model's config and — unless <paramref name="verifyBaseWeights"/> is false — its weight fingerprint.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a prompt checkpoint, or it was trained for another model.</exception>
    public static DeepPromptInjector Load(string path, ClipModel clip, bool verifyBaseWeights = true)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var tensors = SafetensorsFile.Load(path, null, out var metadata);
        try
        {
            if (!metadata.TryGetValue("rvpt_adapter", out var json))
                throw new InvalidDataException($"{path}: not an Rvpt prompt checkpoint (no 'rvpt_adapter' metadata).");
            var adapter = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{path}: adapter metadata is not a JSON object.");
            if ((string?)adapter["format"] != Format)
                throw new InvalidDataException($"{path}: adapter format '{(string?)adapter["format"]}', expected '{Format}'.");
            var problems = new List<string>();
            void Expect(string what, object? found, object expected)
            {
                if (!Equals(found?.ToString(), expected.ToString())) problems.Add($"{what}: checkpoint has {found ?? "nothing"}, model has {expected}");
            }
            var vision = clip.Config.Vision;
            Expect("vision width", (int?)adapter["width"], vision.Width);
            Expect("vision layers", (int?)adapter["layers"], vision.Layers);
            Expect("base model config", (string?)adapter["base_config"], clip.Config.ToMetadataJson());
            if (verifyBaseWeights && problems.Count == 0) problems.AddRange(WeightDifferences(path, adapter, clip));
            if (problems.Count > 0)
                throw new InvalidDataException($"{path}: these prompts were trained for a different CLIP model: {string.Join("; ", problems)}.");

            var unexpected = tensors.Keys.Where(k => k != "prompts").Order(StringComparer.Ordinal).ToArray();
            if (!tensors.TryGetValue("prompts", out var p))
                throw new InvalidDataException($"{path}: no 'prompts' tensor (found: {(tensors.Count == 0 ? "none" : string.Join(", ", tensors.Keys))}).");
            if (unexpected.Length > 0)
                throw new InvalidDataException($"{path}: unexpected tensors besides 'prompts': {string.Join(", ", unexpected)}.");
            if (!is_floating_point(p))
                throw new InvalidDataException($"{path}: 'prompts' has dtype {p.dtype}, expected a floating-point type.");
            var blocks = Required(path, adapter, "prompted_blocks").AsArray().Select(n => (int)n!).ToArray();
            var tokens = (int)Required(path, adapter, "tokens");
            var expected = new long[] { blocks.Length, tokens, vision.Width };
            if (!p.shape.SequenceEqual(expected))
                throw new InvalidDataException($"{path}: 'prompts' has shape [{string.Join(", ", p.shape)}], expected [{string.Join(", ", expected)}] (prompted blocks x tokens x width).");
            long nonFinite;
            using (NewDisposeScope()) nonFinite = p.numel() - isfinite(p).sum().item<long>();
            if (nonFinite > 0)
                throw new InvalidDataException($"{path}: 'prompts' holds {nonFinite} NaN or infinite values; the checkpoint is damaged or came from a diverged run.");
            var options = new DeepPromptOptions
            {
                PromptedBlocks = blocks,
                Tokens = tokens,
                Dropout = (double)Required(path, adapter, "dropout"),
                Seed = (long)Required(path, adapter, "seed"),
                DType = p.dtype,
            };
            DeepPromptInjector injector;
            try
            {
                injector = DeepPromptInjector.For(clip).WithOptions(options).Build();
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{path}: the adapter metadata does not describe valid prompts for this model ({e.Message}).", e);
            }
            using (no_grad()) injector.Prompts.copy_(p);
            if (adapter["class_names"] is JsonArray names && adapter["templates"] is JsonArray templates)
            {
                try
                {
                    injector.SetClasses(names.Select(n => (string)n!).ToArray(), templates.Select(n => (string)n!).ToArray());
                }
                catch (ArgumentException e)
                {
                    injector.Dispose();
                    throw new InvalidDataException($"{path}: the adapter's class names or templates are invalid ({e.Message}).", e);
                }
            }
            return injector;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"{path}: malformed adapter metadata ({e.Message}).", e);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>How the base model's weights differ from those the prompts were trained on (empty: the same weights).</summary>
    private static IEnumerable<string> WeightDifferences(string path, JsonObject adapter, ClipModel clip)
    {
        if (adapter["base_weights"] is { } node)
        {
            var trained = ClipWeightsSignature.FromJson(node, path);
            var differences = trained.Differences(ClipWeightsSignature.Compute(clip));
            return differences.Count == 0 ? [] : [$"base model weights: {string.Join("; ", differences)}"];
        }
        // Version 1: one hash that also covers the storage dtype.
        var saved = (string?)Required(path, adapter, "base_weights_sha256");
        var current = LegacyFingerprint(clip);
        return saved == current
            ? []
            : [$"base model weight fingerprint (version 1, which also covers the storage dtype): checkpoint has {saved}, the model ({clip.DType}) has {current}. " +
               "If this is the same model in another dtype, load it in the dtype the prompts were trained with and save the prompts again: " +
               "version 2 files load across float32, float16 and bfloat16"];
    }

    /// <summary>
    /// The version-1 fingerprint: SHA-256 over every weight's name, dtype, shape and raw bytes, keys in ordinal order
    /// (what <see cref="ClipWeightsFingerprint"/> computed before version 2).
    /// </summary>
    private static string LegacyFingerprint(ClipModel model)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in model.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name}|{tensor.dtype}|{string.Join(",", tensor.shape)}|"));
            var cpu = tensor.detach().cpu().contiguous();
            if (cpu.numel() > 0) sha.AppendData(cpu.bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static JsonNode Required(string path, JsonObject adapter, string key) =>
        adapter[key] ?? throw new InvalidDataException($"{path}: adapter metadata has no '{key}'.");

    private static JsonObject AdapterJson(DeepPromptInjector injector)
    {
        var o = injector.Options;
        var clip = injector.Clip;
        var signature = ClipWeightsSignature.Compute(clip);
        var json = new JsonObject
        {
            ["format"] = Format,
            ["version"] = 2,
            ["prompted_blocks"] = new JsonArray(injector.PromptedBlocks.Select(b => (JsonNode)b).ToArray()),
            ["unprompted_depth"] = injector.UnpromptedDepth,
            ["tokens"] = o.Tokens,
            ["width"] = clip.Config.Vision.Width,
            ["layers"] = clip.Config.Vision.Layers,
            ["init"] = o.Init.ToString(),
            ["dropout"] = o.Dropout,
            ["seed"] = o.Seed,
            ["trainable_values"] = injector.TrainableParameterCount,
            ["class_names"] = injector.ClassNames is { } names ? new JsonArray(names.Select(n => (JsonNode)n).ToArray()) : null,
            ["templates"] = injector.Templates is { } templates ? new JsonArray(templates.Select(t => (JsonNode)t).ToArray()) : null,
            ["base_config"] = clip.Config.ToMetadataJson(),
            ["base_source"] = clip.Source,
            ["base_dtype"] = clip.DType.ToString(),
            ["base_weights"] = signature.ToJsonObject(),
        };
        return json;
    }
}
