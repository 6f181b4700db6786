using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Infers a <see cref="ClipConfig"/> from the tensor shapes of an OpenAI-layout state dict, as OpenAI's
/// <c>build_model</c> does. Head counts cannot be seen in the weights: they default to width / 64 (OpenAI's rule),
/// and the activation to QuickGELU. A config shipped with the checkpoint should be preferred.
/// </summary>
internal static partial class ClipConfigInference
{
    /// <summary>Infers the architecture; throws <see cref="InvalidDataException"/> naming any key it needs but lacks.</summary>
    public static ClipConfig FromOpenAIStateDict(IReadOnlyDictionary<string, Tensor> stateDict, string source)
    {
        long[] Shape(string key) => stateDict.TryGetValue(key, out var t)
            ? t.shape
            : throw new InvalidDataException($"{source}: cannot infer the CLIP architecture: key '{key}' is missing.");
        int Layers(string prefix)
        {
            var re = prefix == "visual." ? VisionBlock() : TextBlock();
            var indexes = stateDict.Keys.Select(k => re.Match(k)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToList();
            if (indexes.Count == 0) throw new InvalidDataException($"{source}: cannot infer the CLIP architecture: no '{prefix}transformer.resblocks.*' keys.");
            return indexes.Max() + 1;
        }

        var conv = Shape("visual.conv1.weight");           // [width, 3, patch, patch]
        var vpos = Shape("visual.positional_embedding");   // [grid² + 1, width]
        int visionWidth = (int)conv[0], patch = (int)conv[^1];
        int grid = (int)Math.Round(Math.Sqrt(vpos[0] - 1));
        if (grid * grid + 1 != vpos[0])
            throw new InvalidDataException($"{source}: visual.positional_embedding has {vpos[0]} rows, which is not grid² + 1.");
        int textWidth = (int)Shape("ln_final.weight")[0];
        var visionFc = stateDict.TryGetValue("visual.transformer.resblocks.0.mlp.c_fc.weight", out var vf) ? (int)vf.shape[0] : (int?)null;
        var textFc = stateDict.TryGetValue("transformer.resblocks.0.mlp.c_fc.weight", out var tf) ? (int)tf.shape[0] : (int?)null;
        return new ClipConfig
        {
            EmbedDim = (int)Shape("text_projection")[1],
            Vision = new ClipVisionConfig
            {
                ImageSize = patch * grid,
                PatchSize = patch,
                Width = visionWidth,
                Layers = Layers("visual."),
                Heads = Math.Max(1, visionWidth / 64),
                MlpWidth = ClipConfigJson.CanonicalMlp(visionWidth, visionFc),
            },
            Text = new ClipTextConfig
            {
                ContextLength = (int)Shape("positional_embedding")[0],
                VocabSize = (int)Shape("token_embedding.weight")[0],
                Width = textWidth,
                Layers = Layers(""),
                Heads = Math.Max(1, textWidth / 64),
                MlpWidth = ClipConfigJson.CanonicalMlp(textWidth, textFc),
            },
        };
    }

    [GeneratedRegex(@"^visual\.transformer\.resblocks\.(\d+)\.")]
    private static partial Regex VisionBlock();

    [GeneratedRegex(@"^transformer\.resblocks\.(\d+)\.")]
    private static partial Regex TextBlock();
}
