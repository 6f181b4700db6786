using System.Text.Json;
using System.Text.Json.Nodes;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Prompt-only checkpoints: a safetensors file with the prompt tensor (key <c>prompts</c>) whose
/// <c>__metadata__["rvpt_adapter"]</c> holds the adapter config (format, prompted blocks, D, b, width, layers, init,
/// dropout, and the base model's config and weight fingerprint); the same JSON is written beside it as
/// <c>&lt;file&gt;.json</c> for people. Loading checks the base model and fails clearly on a mismatch.
/// </summary>
public static class PromptCheckpoint
{
    /// <summary>The adapter format name written into every checkpoint.</summary>
    public const string Format = "rvpt-deep-visual-prompts";

    /// <summary>Writes the prompts and adapter config atomically.</summary>
    public static void Save(DeepPromptInjector injector, string path)
    {
        ArgumentNullException.ThrowIfNull(injector);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var json = AdapterJson(injector).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["prompts"] = injector.Prompts },
            new Dictionary<string, string> { ["format"] = "pt", ["rvpt_adapter"] = json });
        AtomicFile.WriteAllText(path + ".json", json);
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
            if (verifyBaseWeights && problems.Count == 0)
                Expect("base model weight fingerprint", (string?)adapter["base_weights_sha256"], ClipWeightsFingerprint.Compute(clip));
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

    private static JsonNode Required(string path, JsonObject adapter, string key) =>
        adapter[key] ?? throw new InvalidDataException($"{path}: adapter metadata has no '{key}'.");

    private static JsonObject AdapterJson(DeepPromptInjector injector)
    {
        var o = injector.Options;
        var clip = injector.Clip;
        return new JsonObject
        {
            ["format"] = Format,
            ["version"] = 1,
            ["prompted_blocks"] = new JsonArray(injector.PromptedBlocks.Select(b => (JsonNode)b).ToArray()),
            ["unprompted_depth"] = injector.UnpromptedDepth,
            ["tokens"] = o.Tokens,
            ["width"] = clip.Config.Vision.Width,
            ["layers"] = clip.Config.Vision.Layers,
            ["init"] = o.Init.ToString(),
            ["dropout"] = o.Dropout,
            ["seed"] = o.Seed,
            ["trainable_values"] = injector.TrainableParameterCount,
            ["base_config"] = clip.Config.ToMetadataJson(),
            ["base_source"] = clip.Source,
            ["base_weights_sha256"] = ClipWeightsFingerprint.Compute(clip),
        };
    }
}
