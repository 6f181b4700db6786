using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// AdamW parameter groups with CLIP training code's weight-decay rule: no decay for LayerNorm gains, biases and
/// <c>logit_scale</c>. CleanCLIP's <c>src/main.py</c> (used both to poison and to clean) puts every parameter whose name
/// contains "bn", "ln", "bias" or "logit_scale" in a group with weight decay 0, the rest in a group with the run's
/// decay; OpenCLIP's <c>main.py</c> does the same. The names are the model's own (OpenAI layout: <c>ln_1</c>,
/// <c>in_proj_bias</c>, ...).
/// </summary>
internal static class ClipWeightDecay
{
    private static readonly string[] NoDecayKeys = ["bn", "ln", "bias", "logit_scale"];

    /// <summary>Whether CleanCLIP's rule exempts the parameter named <paramref name="name"/> from weight decay.</summary>
    public static bool IsExempt(string name) => NoDecayKeys.Any(k => name.Contains(k, StringComparison.Ordinal));

    /// <summary>
    /// The optimiser's groups for <paramref name="parameters"/> (in their order): with <paramref name="decayAll"/>
    /// one group with <paramref name="weightDecay"/>; otherwise the exempt parameters with decay 0 and the rest with
    /// <paramref name="weightDecay"/>. Every other AdamW setting comes from the optimiser's defaults.
    /// </summary>
    public static AdamW.ParamGroup[] Groups(IEnumerable<(string name, Parameter parameter)> parameters, double weightDecay, bool decayAll)
    {
        var list = parameters.ToList();
        if (decayAll) return [new AdamW.ParamGroup(list.Select(p => p.parameter), new AdamW.Options { weight_decay = weightDecay })];
        return
        [
            new AdamW.ParamGroup(list.Where(p => IsExempt(p.name)).Select(p => p.parameter).ToList(), new AdamW.Options { weight_decay = 0.0 }),
            new AdamW.ParamGroup(list.Where(p => !IsExempt(p.name)).Select(p => p.parameter).ToList(), new AdamW.Options { weight_decay = weightDecay }),
        ];
    }
}
