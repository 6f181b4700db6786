using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;

namespace Rvpt.Cli.Lab;

/// <summary>
/// Everything one synthetic demo run does. The presets: <see cref="Default"/>, <see cref="Calibrated"/>,
/// <see cref="SmallWorld"/> and <see cref="Quick"/>; <see cref="Calibrated"/> is declared first because
/// <see cref="Default"/> is made from it.
/// </summary>
internal sealed record LabDemoSettings
{
    /// <summary>Preset name, shown in the report.</summary>
    public required string Preset { get; init; }

    /// <summary>What the preset leaves out of the world it runs, said in the report; <see langword="null"/> when nothing.</summary>
    public string? Scope { get; init; }

    /// <summary>The lab: world, clean-model recipe, triggers, planting.</summary>
    public required SyntheticLabOptions Lab { get; init; }

    /// <summary>The defences and their selection grids.</summary>
    public required DefenceSuiteOptions Suite { get; init; }

    /// <summary>Attacks to plant and defend.</summary>
    public required IReadOnlyList<SyntheticAttack> Attacks { get; init; }

    /// <summary>Images of the defender's pool the shots are drawn from.</summary>
    public int PoolImages { get; init; } = 768;

    /// <summary>Clean validation images (hyper-parameter selection).</summary>
    public int ValidationImages { get; init; } = 600;

    /// <summary>Test images (CA and ASR).</summary>
    public int TestImages { get; init; } = 1_200;

    /// <summary>Clean image-caption pairs CleanCLIP fine-tunes on.</summary>
    public int CleanClipPairs { get; init; } = 2_000;

    /// <summary>
    /// Poison fractions of single attacks, replacing <c>Lab.Planting.PoisonFraction</c> for them (each planted model is
    /// cached under its own recipe). Default empty: every attack uses the lab's fraction.
    /// </summary>
    public IReadOnlyDictionary<SyntheticAttack, double> PoisonFractions { get; init; } = new Dictionary<SyntheticAttack, double>();

    /// <summary>The lab options <paramref name="attack"/> is planted with: <see cref="Lab"/> with its poison fraction, if it has one.</summary>
    public SyntheticLabOptions LabFor(SyntheticAttack attack) =>
        PoisonFractions.TryGetValue(attack, out var fraction) ? Lab with { Planting = Lab.Planting with { PoisonFraction = fraction } } : Lab;

    /// <summary>
    /// These settings with <paramref name="shots"/> per class for every few-shot defence. The defender's pool grows in
    /// proportion when the shots grow (the default's 768 images hold 16 shots of each of the 12 classes four times
    /// over) and never shrinks, so fewer shots are drawn from the same pool as the default's.
    /// </summary>
    public LabDemoSettings WithShots(int shots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shots, 1);
        long pool = Math.Max(PoolImages, (long)PoolImages * shots / Suite.Shots);
        return this with { Suite = Suite with { Shots = shots }, PoolImages = checked((int)pool) };
    }

    /// <summary>Planting gate: the backdoor counts as planted at ASR at least this.</summary>
    public double GateAsr { get; init; } = 0.80;

    /// <summary>Planting gate: clean accuracy at most this far below the clean model's.</summary>
    public double GateCaDrop { get; init; } = 0.03;

    /// <summary>
    /// The calibrated world of docs/results.md ("256 shots for 8 epochs: a world that passes the three gates"): the only
    /// world of the lab that passes gates A, B and C. A width-192, 6-block clean model; the defended task's shapes drawn
    /// at 0.93 of their pre-training size; BadNets and Blended planted with 10% poison, BadCLIP with 5%; the defender
    /// holding 256 shots per class, every defence trained on them for 8 epochs (prompts at D = 3, b = 4, D = L / 2);
    /// CleanCLIP on 12,000 clean pairs; all seven defences. WaNet does not plant in the lab and is left out. It is
    /// outside the demo's 30-minute budget (CleanCLIP on 12,000 pairs and full fine-tuning on 3,072 images take most of
    /// it, docs/demo.md); <see cref="Default"/> is the cut of it that fits.
    /// </summary>
    public static LabDemoSettings Calibrated { get; } = new()
    {
        Preset = "calibrated",
        Lab = SyntheticLabOptions.Calibrated,
        PoisonFractions = new Dictionary<SyntheticAttack, double> { [SyntheticAttack.BadClip] = 0.05 },
        Suite = new DefenceSuiteOptions
        {
            Defences =
            [
                DefenceKind.None, DefenceKind.PlainVpt, DefenceKind.LinearProbe, DefenceKind.CleanClip, DefenceKind.Rvpt,
                DefenceKind.FullFineTuning, DefenceKind.RepulsiveFineTuning,
            ],
            Shots = 256,
            Prompts = new DeepPromptOptions { UnpromptedDepth = 3, Tokens = 4 },
            PromptTraining = new TrainingOptions { Augment = false, Epochs = 8 },
            CleanClip = new CleanClipOptions { FineTuning = new ContrastiveFineTuningOptions { LearningRate = 1e-5, Epochs = 4, BatchSize = 64 } },
            CleanClipLearningRates = [1e-5, 1e-3],
            FineTuning = new FullFineTuningOptions { Training = new TrainingOptions { LearningRate = 1e-3, Augment = false, Epochs = 8 } },
        },
        Attacks = [SyntheticAttack.BadNets, SyntheticAttack.Blended, SyntheticAttack.BadClip],
        PoolImages = 12_288, // 4 x 256 shots x 12 classes, as WithShots(256) gives the small world's pool
        CleanClipPairs = 12_000,
    };

    /// <summary>
    /// The default run: the cut of <see cref="Calibrated"/> that fits the demo's budget (30 minutes cold, 10 with the
    /// clean model cached, on 2 CPU cores; timed in docs/demo.md). The same world, models and defender; BadCLIP only (the
    /// paper's Table 8 attack), with none, VPT, linear probe and RVPT. Full fine-tuning, BadCLIP's other gate-B baseline,
    /// takes about 4 minutes more on the 3,072 shots, which takes the cached run just past 10 minutes; <c>--defences</c>
    /// and <c>--attacks</c> add it and the rest of the table.
    /// </summary>
    public static LabDemoSettings Default { get; } = Calibrated with
    {
        Preset = "default",
        Suite = Calibrated.Suite with { Defences = [DefenceKind.None, DefenceKind.PlainVpt, DefenceKind.LinearProbe, DefenceKind.Rvpt] },
        Attacks = [SyntheticAttack.BadClip],
        Scope = "a cut of the calibrated world to fit the demo's budget: BadCLIP only, without the full fine-tuning and CleanCLIP baselines; " +
            "`--calibrated` runs the whole table",
    };

    /// <summary>
    /// The demo's earlier default (<c>--small-world</c>): the lab's first world, a 1.32M-parameter clean model defended on
    /// the 12 classes it was pre-trained on, 16 shots, four attacks, five defences. It fails the paper's premise (gate C:
    /// RVPT costs its clean model 13.7 points of clean accuracy at this preset's prompts, one seed, where the gate allows
    /// 2; docs/results.md). Prompt tuning runs without CoOp's random resized crop: on 32-pixel images a crop down to 8%
    /// of the area cuts the shape away, and with it VPT's validation accuracy fell to 58% (from 95% without it) on the
    /// Blended model.
    /// </summary>
    public static LabDemoSettings SmallWorld { get; } = new()
    {
        Preset = "small-world",
        Lab = new SyntheticLabOptions(),
        Suite = new DefenceSuiteOptions
        {
            PromptTraining = new TrainingOptions { Augment = false }, // so the per-sample caches (on by default) act; the prompts are bit-identical
            CleanClip = new CleanClipOptions { FineTuning = new ContrastiveFineTuningOptions { LearningRate = 1e-5, Epochs = 2, BatchSize = 64 } },
            // Opt-in rows (--defences finetune,finetune-fr): the same un-augmented schedule as the prompts.
            FineTuning = new FullFineTuningOptions { Training = new TrainingOptions { LearningRate = 1e-3, Augment = false } },
        },
        Attacks = [SyntheticAttack.BadNets, SyntheticAttack.Blended, SyntheticAttack.WaNet, SyntheticAttack.BadClip],
    };

    /// <summary>
    /// A smoke test of the whole pipeline in about a minute: a barely trained clean model, short planting and
    /// defences. Its numbers mean nothing (the gates will usually fail and say so); it proves every phase runs.
    /// </summary>
    public static LabDemoSettings Quick { get; } = new()
    {
        Preset = "quick",
        Lab = SyntheticLabOptions.Quick,
        Suite = new DefenceSuiteOptions
        {
            Shots = 2,
            PromptTraining = new TrainingOptions { Epochs = 2, BatchSize = 8 },
            PromptLearningRates = [0.02],
            ProbeLearningRates = [0.01],
            Probe = new LinearProbeOptions { Epochs = 5 },
            CleanClip = new CleanClipOptions { FineTuning = new ContrastiveFineTuningOptions { LearningRate = 1e-5, Epochs = 1, BatchSize = 32 } },
            CleanClipLearningRates = [1e-5],
            FineTuning = new FullFineTuningOptions { Training = new TrainingOptions { Epochs = 2, BatchSize = 8, LearningRate = 1e-3 } },
            FineTuningLearningRates = [1e-3],
            ResistivityImages = 32,
        },
        Attacks = [SyntheticAttack.BadNets, SyntheticAttack.Blended, SyntheticAttack.WaNet, SyntheticAttack.BadClip],
        PoolImages = 96,
        ValidationImages = 48,
        TestImages = 96,
        CleanClipPairs = 64,
    };
}
