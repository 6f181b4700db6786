using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;

namespace Rvpt.Cli.Lab;

/// <summary>Everything one synthetic demo run does; <see cref="Default"/> and <see cref="Quick"/> are the presets.</summary>
internal sealed record LabDemoSettings
{
    /// <summary>Preset name, shown in the report.</summary>
    public required string Preset { get; init; }

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
    /// The default run: the measured recipe of docs/results.md. Prompt tuning runs without CoOp's random resized crop:
    /// on 32-pixel images a crop down to 8% of the area cuts the shape away, and with it VPT's validation accuracy fell
    /// to 58% (from 95% without it) on the Blended model.
    /// </summary>
    public static LabDemoSettings Default { get; } = new()
    {
        Preset = "default",
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
