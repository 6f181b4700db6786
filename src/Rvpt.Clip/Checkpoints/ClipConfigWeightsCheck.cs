using System.Globalization;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Checks a <see cref="ClipConfig"/> against the names, shapes and dtypes of a checkpoint's weights (read from file
/// headers where the format has them) before any model tensor is allocated, so that a config claiming a huge model
/// beside small weights is refused instead of asking libtorch for gigabytes.
/// </summary>
internal static class ClipConfigWeightsCheck
{
    /// <summary>One weight a model with a given config has: its OpenAI key, shape, and the config fields that decide it.</summary>
    internal sealed record ExpectedWeight(string Key, long[] Shape, ClipConfigField[] Fields, ClipConfigField? Layers);

    /// <summary>Every weight of <c>new ClipModel(config)</c>, in the model's order, computed without allocating anything.</summary>
    public static IReadOnlyList<ExpectedWeight> ExpectedWeights(ClipConfig config)
    {
        var v = config.Vision;
        var t = config.Text;
        var list = new List<ExpectedWeight>();
        void Add(string key, long[] shape, ClipConfigField? layers, params ClipConfigField[] fields) => list.Add(new ExpectedWeight(key, shape, fields, layers));

        const ClipConfigField VW = ClipConfigField.VisionWidth, TW = ClipConfigField.TextWidth;
        Add("visual.class_embedding", [v.Width], null, VW);
        Add("visual.positional_embedding", [v.TokenCount, v.Width], null, ClipConfigField.ImageSize, ClipConfigField.PatchSize, VW);
        Add("visual.proj", [v.Width, config.EmbedDim], null, VW, ClipConfigField.EmbedDim);
        Add("visual.conv1.weight", [v.Width, 3, v.PatchSize, v.PatchSize], null, VW, ClipConfigField.PatchSize);
        AddNorm("visual.ln_pre", v.Width, VW);
        AddBlocks("visual.", v.Layers, v.Width, v.ResolvedMlpWidth, ClipConfigField.VisionLayers, VW, ClipConfigField.VisionMlpWidth);
        AddNorm("visual.ln_post", v.Width, VW);
        Add("token_embedding.weight", [t.VocabSize, t.Width], null, ClipConfigField.VocabSize, TW);
        Add("positional_embedding", [t.ContextLength, t.Width], null, ClipConfigField.ContextLength, TW);
        AddBlocks("", t.Layers, t.Width, t.ResolvedMlpWidth, ClipConfigField.TextLayers, TW, ClipConfigField.TextMlpWidth);
        AddNorm("ln_final", t.Width, TW);
        Add("text_projection", [t.Width, config.EmbedDim], null, TW, ClipConfigField.EmbedDim);
        Add("logit_scale", [], null);
        return list;

        void AddNorm(string prefix, int width, ClipConfigField field)
        {
            Add(prefix + ".weight", [width], null, field);
            Add(prefix + ".bias", [width], null, field);
        }

        void AddBlocks(string tower, int layers, int w, int mlp, ClipConfigField layerField, ClipConfigField widthField, ClipConfigField mlpField)
        {
            for (int i = 0; i < layers; i++)
            {
                var p = $"{tower}transformer.resblocks.{i.ToString(CultureInfo.InvariantCulture)}.";
                Add(p + "attn.in_proj_weight", [3L * w, w], layerField, widthField);
                Add(p + "attn.in_proj_bias", [3L * w], layerField, widthField);
                Add(p + "attn.out_proj.weight", [w, w], layerField, widthField);
                Add(p + "attn.out_proj.bias", [w], layerField, widthField);
                Add(p + "ln_1.weight", [w], layerField, widthField);
                Add(p + "ln_1.bias", [w], layerField, widthField);
                Add(p + "mlp.c_fc.weight", [mlp, w], layerField, mlpField, widthField);
                Add(p + "mlp.c_fc.bias", [mlp], layerField, mlpField);
                Add(p + "mlp.c_proj.weight", [w, mlp], layerField, widthField, mlpField);
                Add(p + "mlp.c_proj.bias", [w], layerField, widthField);
                Add(p + "ln_2.weight", [w], layerField, widthField);
                Add(p + "ln_2.bias", [w], layerField, widthField);
            }
        }
    }

    /// <summary>
    /// Throws a <see cref="ClipCheckpointMismatchException"/> (every problem listed) when <paramref name="weights"/> (OpenAI keys) do not fit <paramref name="config"/>. Its first
    /// line names the first disagreeing key, its shape in the weights and the config field that disagrees.
    /// </summary>
    public static void Check(ClipConfig config, IReadOnlyDictionary<string, ClipWeightInfo> weights, string weightsSource,
        ClipConfigFormat format, string configSource)
    {
        var expected = ExpectedWeights(config);
        var expectedKeys = new HashSet<string>(expected.Select(e => e.Key), StringComparer.Ordinal);
        var missing = new List<string>();
        var shapes = new List<ClipShapeMismatch>();
        string? first = null;
        foreach (var e in expected)
        {
            if (!weights.TryGetValue(e.Key, out var found))
            {
                missing.Add(e.Key);
                first ??= $"'{e.Key}' is not in the weights, but {Describe(config, format, e.Layers is { } l ? [l] : e.Fields)} asks for it";
            }
            else if (!found.Shape.SequenceEqual(e.Shape))
            {
                shapes.Add(new ClipShapeMismatch(e.Key, e.Shape, found.Shape));
                first ??= $"'{e.Key}' is {Shape(found.Shape)} in the weights, but {Describe(config, format, e.Fields)} make{(e.Fields.Length == 1 ? "s" : "")} it {Shape(e.Shape)}";
            }
        }
        var unexpected = weights.Keys.Where(k => !expectedKeys.Contains(k) && !ClipStateDictConverter.IgnoredOpenAIKeys.Contains(k))
            .Order(StringComparer.Ordinal).ToList();
        if (first is null && unexpected.Count > 0)
        {
            var key = unexpected[0];
            var layers = key.StartsWith("visual.transformer.resblocks.", StringComparison.Ordinal) ? ClipConfigField.VisionLayers
                : key.StartsWith("transformer.resblocks.", StringComparison.Ordinal) ? ClipConfigField.TextLayers : (ClipConfigField?)null;
            first = layers is { } l
                ? $"'{key}' {Shape(weights[key].Shape)} is in the weights, but {Describe(config, format, [l])} has no such block"
                : $"'{key}' {Shape(weights[key].Shape)} is in the weights but is not a weight of a CLIP model";
        }
        if (first is not null)
        {
            throw new ClipCheckpointMismatchException(weightsSource, missing, unexpected, shapes,
                $"{weightsSource}: the config ({configSource}) disagrees with the weights, so no model was allocated and nothing was loaded. First difference: {first}.");
        }

        var notFloat = expected.Select(e => (e.Key, weights[e.Key].DType)).Where(p => !is_floating_point(p.DType)).ToList();
        if (notFloat.Count > 0)
            throw new InvalidDataException($"{weightsSource}: weights must be floating point; found {string.Join(", ", notFloat.Select(p => $"{p.Key} ({p.DType})"))}.");
    }

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string Describe(ClipConfig config, ClipConfigFormat format, ClipConfigField[] fields) =>
        fields.Length == 0
            ? "the config"
            : string.Join(" and ", fields.Select(f => $"{ClipConfigFields.Name(format, f)} = {ClipConfigFields.Value(config, f).ToString(CultureInfo.InvariantCulture)}"));
}
