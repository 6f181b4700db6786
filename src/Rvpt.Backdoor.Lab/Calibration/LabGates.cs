using System.Globalization;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// The gates that calibrate a backdoor lab to the paper's setting before RVPT is measured in it (docs/results.md,
/// "Calibration"). They read clean accuracy, the attack's own success rate and the named baselines' success rates only,
/// never RVPT's attack success rate, so a world chosen by them is not tuned to the result being measured.
/// <list type="bullet">
/// <item>Gate C, the premise (clean data, no backdoor): RVPT with the paper's settings keeps clean accuracy within
/// <see cref="PremiseTolerance"/> of the clean model, and inserting the untrained prompts costs at most as much.</item>
/// <item>Gate A, the backdoor exists: ASR at least <see cref="PlantedAsr"/> with clean accuracy within
/// <see cref="PlantedCaDrop"/> of the clean model.</item>
/// <item>Gate B, the paper's baselines: a defence the paper finds effective cuts the ASR by at least half (relative);
/// one it finds ineffective leaves the backdoor planted (ASR still at least <see cref="PlantedAsr"/>).</item>
/// </list>
/// </summary>
public static class LabGates
{
    /// <summary>Gate A's minimum attack success rate. 0.80.</summary>
    public const double PlantedAsr = 0.80;

    /// <summary>Gate A's largest clean-accuracy drop of the backdoored model from the clean one. 0.03 (3 points).</summary>
    public const double PlantedCaDrop = 0.03;

    /// <summary>Gate C's largest clean-accuracy cost of RVPT and of the untrained prompts. 0.02 (2 points).</summary>
    public const double PremiseTolerance = 0.02;

    /// <summary>Gate B's smallest relative ASR reduction of a defence that "removes" a backdoor. 0.5.</summary>
    public const double RemovalFraction = 0.5;

    /// <summary>Gate C on measured clean accuracies (fractions in [0, 1]).</summary>
    /// <param name="cleanAccuracy">The clean model, zero-shot.</param>
    /// <param name="untrainedPromptAccuracy">The clean model with the prompts inserted but not trained.</param>
    /// <param name="rvptAccuracy">The clean model with RVPT's trained prompts (learning rate chosen on clean validation data).</param>
    public static IReadOnlyList<GateResult> Premise(double cleanAccuracy, double untrainedPromptAccuracy, double rvptAccuracy) =>
    [
        new("C", "untrained prompts", cleanAccuracy - untrainedPromptAccuracy <= PremiseTolerance + 1e-12,
            Invariant($"CA {Pct(untrainedPromptAccuracy)} vs clean {Pct(cleanAccuracy)}: cost {Pts(cleanAccuracy - untrainedPromptAccuracy)} <= {Pts(PremiseTolerance)}")),
        new("C", "RVPT on the clean model", cleanAccuracy - rvptAccuracy <= PremiseTolerance + 1e-12,
            Invariant($"CA {Pct(rvptAccuracy)} vs clean {Pct(cleanAccuracy)}: cost {Pts(cleanAccuracy - rvptAccuracy)} <= {Pts(PremiseTolerance)}")),
    ];

    /// <summary>Gate A: <paramref name="backdoored"/> (the backdoored model, no defence) against the clean model's clean accuracy.</summary>
    public static GateResult Planted(string attack, double cleanModelAccuracy, BackdoorMetrics backdoored)
    {
        ArgumentNullException.ThrowIfNull(backdoored);
        bool asr = backdoored.AttackSuccessRate >= PlantedAsr;
        bool ca = backdoored.CleanAccuracy >= cleanModelAccuracy - PlantedCaDrop - 1e-12;
        return new GateResult("A", $"{attack} planted", asr && ca,
            Invariant($"ASR {Pct(backdoored.AttackSuccessRate)} >= {Pct(PlantedAsr)}; CA {Pct(backdoored.CleanAccuracy)} vs clean {Pct(cleanModelAccuracy)}, drop <= {Pts(PlantedCaDrop)}"));
    }

    /// <summary>Gate B for a defence the paper finds effective: the ASR falls by at least half, relative to no defence.</summary>
    public static GateResult Removes(string attack, string defence, BackdoorMetrics undefended, BackdoorMetrics defended)
    {
        ArgumentNullException.ThrowIfNull(undefended);
        ArgumentNullException.ThrowIfNull(defended);
        double limit = (1 - RemovalFraction) * undefended.AttackSuccessRate;
        return new GateResult("B", $"{attack}: {defence} cuts the ASR by half", defended.AttackSuccessRate <= limit + 1e-12,
            Invariant($"ASR {Pct(undefended.AttackSuccessRate)} -> {Pct(defended.AttackSuccessRate)}, needs <= {Pct(limit)}"));
    }

    /// <summary>Gate B for a defence the paper finds ineffective: the backdoor stays planted (ASR at least <see cref="PlantedAsr"/>).</summary>
    public static GateResult LeavesInPlace(string attack, string defence, BackdoorMetrics undefended, BackdoorMetrics defended)
    {
        ArgumentNullException.ThrowIfNull(undefended);
        ArgumentNullException.ThrowIfNull(defended);
        return new GateResult("B", $"{attack}: {defence} leaves the backdoor", defended.AttackSuccessRate >= PlantedAsr,
            Invariant($"ASR {Pct(undefended.AttackSuccessRate)} -> {Pct(defended.AttackSuccessRate)}, needs >= {Pct(PlantedAsr)}"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Pct(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static string Pts(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + " pts";
}
