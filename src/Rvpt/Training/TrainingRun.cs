using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Rvpt;

/// <summary>
/// The settings that fix a training trajectory, written into the training state so that a resume with other
/// settings (which would silently produce a different run) is refused, naming what differs.
/// </summary>
internal static class TrainingRun
{
    public static SortedDictionary<string, string> Describe(TrainingOptions options, RepulsiveLoss loss, DeepPromptInjector prompts,
        ILabeledImageSource data, IReadOnlyList<string> templates)
    {
        static string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        var labels = new StringBuilder();
        for (var i = 0; i < data.Count; i++) labels.Append(I(data.GetLabel(i))).Append(',');
        var run = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["epochs"] = I(options.Epochs),
            ["batch_size"] = I(options.BatchSize),
            ["learning_rate"] = D(options.LearningRate),
            ["momentum"] = D(options.Momentum),
            ["weight_decay"] = D(options.WeightDecay),
            ["warmup_epochs"] = I(options.WarmupEpochs),
            ["warmup_learning_rate"] = D(options.WarmupLearningRate),
            ["augment"] = options.Augment ? "true" : "false",
            ["seed"] = I(options.Seed),
            ["alpha"] = D(loss.Alpha),
            ["margin"] = loss.Margin is { } m ? D(m) : "none",
            ["prompt_dropout"] = D(prompts.Options.Dropout),
            ["prompts_shape"] = string.Join(",", prompts.Prompts.shape),
            ["images"] = I(data.Count),
            ["labels_sha256"] = Sha256(labels.ToString()),
            ["classes_sha256"] = Sha256(string.Join("\n", data.ClassNames) + "\n\n" + string.Join("\n", templates)),
        };
        // Only for the ablations, so that states of the paper's loss written before they existed still resume.
        if (loss.Blocks != RepelledBlocks.All) run["repelled_blocks"] = loss.Blocks.ToString();
        if (loss.Feature != RepelledFeature.RawClassToken) run["repelled_feature"] = loss.Feature.ToString();
        // Only for AdamW, so that SGD states written before the option existed still resume.
        if (options.Optimizer == PromptOptimizer.AdamW)
        {
            run["optimizer"] = "adamw";
            run["adam_beta1"] = D(options.AdamBeta1);
            run["adam_beta2"] = D(options.AdamBeta2);
            run["adam_epsilon"] = D(options.AdamEpsilon);
        }
        // Only when set, so that states written before the option existed still resume.
        if (options.ComputeDType is { } dtype && dtype != prompts.Clip.DType) run["compute_dtype"] = dtype.ToString();
        // Prompt dropout masks are drawn per sample since this key exists; a state trained with shared masks is another run.
        if (prompts.Options.Dropout > 0) run["prompt_dropout_masks"] = "per-sample";
        // The steps of an epoch depend on it; only when in effect, so that states written before the option (which kept
        // the last batch) resume with DropLast = false and are refused with it.
        if (options.DropLast && data.Count >= options.BatchSize && data.Count % options.BatchSize != 0) run["drop_last"] = "true";
        // The class-token-only last block rounds differently from the full block: a run with it is another run.
        if (prompts.ClassTokenOnlyLastBlock) run["last_block"] = "class-token-only";
        // Likewise for the blocks that skip the prompts' own outputs.
        if (prompts.SkipReplacedPromptOutputs) run["prompt_outputs"] = "skipped";
        return run;
    }

    public static string ToJson(SortedDictionary<string, string> run) => JsonSerializer.Serialize(run);

    /// <summary>The differences between a saved run (JSON) and this one, as "key: checkpoint X, this run Y" lines.</summary>
    public static List<string> Differences(string savedJson, SortedDictionary<string, string> current)
    {
        var saved = JsonSerializer.Deserialize<Dictionary<string, string>>(savedJson)
            ?? throw new JsonException("the run description is null");
        var differences = new List<string>();
        foreach (var (key, value) in current)
        {
            var old = saved.GetValueOrDefault(key);
            if (old != value) differences.Add($"{key}: checkpoint {old ?? "(none)"}, this run {value}");
        }
        foreach (var (key, old) in saved)
        {
            if (!current.ContainsKey(key)) differences.Add($"{key}: checkpoint {old}, this run (none)");
        }
        return differences;
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
