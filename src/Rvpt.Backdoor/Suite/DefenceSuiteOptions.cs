using Rvpt.Clip;

namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="DefenceSuite"/>. Every trained defence picks its learning rate from a small candidate list by
/// clean accuracy on a held-out clean validation set, never by attack success rate; the other settings are the
/// paper's (scaled to the model where the paper's would not fit, see <see cref="Prompts"/>).
/// </summary>
public sealed record DefenceSuiteOptions
{
    /// <summary>Defences to run, in report order. Default all five.</summary>
    public IReadOnlyList<DefenceKind> Defences { get; init; } =
        [DefenceKind.None, DefenceKind.PlainVpt, DefenceKind.LinearProbe, DefenceKind.CleanClip, DefenceKind.Rvpt];

    /// <summary>Labelled shots per class drawn from the training pool. Default 16 (the paper's).</summary>
    public int Shots { get; init; } = 16;

    /// <summary>Few-shot seeds; every trained defence runs once per seed. Default [1].</summary>
    public IReadOnlyList<long> Seeds { get; init; } = [1];

    /// <summary>Prompt geometry; null means <see cref="DeepPromptOptions.ScaledTo"/> of the model's vision tower. Default null.</summary>
    public DeepPromptOptions? Prompts { get; init; }

    /// <summary>RVPT's alpha. Default 2 (the paper's).</summary>
    public double Alpha { get; init; } = 2.0;

    /// <summary>Prompt training (VPT and RVPT). Default the paper's: 50 epochs, batch 32, SGD, 1 warm-up epoch, CoOp augmentation.</summary>
    public TrainingOptions PromptTraining { get; init; } = new();

    /// <summary>Learning-rate candidates of VPT and RVPT. Default 0.002 (the paper's), 0.02, 0.2.</summary>
    public IReadOnlyList<double> PromptLearningRates { get; init; } = [0.002, 0.02, 0.2];

    /// <summary>Linear-probe settings. Default the paper's (SGD, momentum 0.9, batch 32, 40 epochs).</summary>
    public LinearProbeOptions Probe { get; init; } = new();

    /// <summary>Learning-rate candidates of the linear probe. Default 0.01 (the paper's), 0.1.</summary>
    public IReadOnlyList<double> ProbeLearningRates { get; init; } = [0.01, 0.1];

    /// <summary>CleanCLIP settings (its learning rate is replaced by each candidate). Default <see cref="CleanClipOptions"/> with 3 epochs.</summary>
    public CleanClipOptions CleanClip { get; init; } = new() { FineTuning = new ContrastiveFineTuningOptions { LearningRate = 1e-5, Epochs = 3, BatchSize = 64 } };

    /// <summary>Learning-rate candidates of CleanCLIP. Default 1e-5, 1e-4.</summary>
    public IReadOnlyList<double> CleanClipLearningRates { get; init; } = [1e-5, 1e-4];

    /// <summary>
    /// Full fine-tuning settings (<see cref="DefenceKind.FullFineTuning"/> and <see cref="DefenceKind.RepulsiveFineTuning"/>;
    /// the learning rate is replaced by each candidate, alpha by 0 or <see cref="Alpha"/>, D by the prompts' D). Default
    /// the prompt trainer's schedule: 50 epochs, batch 32, SGD with momentum 0.9, 1 warm-up epoch, CoOp augmentation.
    /// </summary>
    public FullFineTuningOptions FineTuning { get; init; } = new();

    /// <summary>Learning-rate candidates of full fine-tuning (SGD). Default 1e-4, 1e-3, 1e-2.</summary>
    public IReadOnlyList<double> FineTuningLearningRates { get; init; } = [1e-4, 1e-3, 1e-2];

    /// <summary>Templates of the zero-shot class prompts. Default "a photo of a {}.".</summary>
    public IReadOnlyList<string> Templates { get; init; } = PromptTemplates.APhotoOfA;

    /// <summary>
    /// Images of the test set on which perturbation resistivity is measured for the undefended and the RVPT
    /// encoder (first seed); 0 skips it. Default 256.
    /// </summary>
    public int ResistivityImages { get; init; } = 256;

    /// <summary>Folder where the chosen RVPT prompts of every seed are saved; null saves nothing. Default null.</summary>
    public string? PromptOutputDirectory { get; init; }

    /// <summary>Images per evaluation forward pass. Default 128.</summary>
    public int EvaluationBatchSize { get; init; } = 128;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Defences.Count == 0) throw new ArgumentException("At least one defence is needed.", nameof(Defences));
        if (Shots < 1) throw new ArgumentOutOfRangeException(nameof(Shots), Shots, "Must be >= 1.");
        if (Seeds.Count == 0) throw new ArgumentException("At least one seed is needed.", nameof(Seeds));
        if (!(Alpha >= 0)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Must be >= 0.");
        PromptTraining.Validate();
        CheckCandidates(PromptLearningRates, nameof(PromptLearningRates));
        CheckCandidates(ProbeLearningRates, nameof(ProbeLearningRates));
        CheckCandidates(CleanClipLearningRates, nameof(CleanClipLearningRates));
        CheckCandidates(FineTuningLearningRates, nameof(FineTuningLearningRates));
        FineTuning.Validate();
        CleanClip.Validate();
        if (ResistivityImages < 0) throw new ArgumentOutOfRangeException(nameof(ResistivityImages), ResistivityImages, "Must be >= 0.");
        if (EvaluationBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "Must be >= 1.");
    }

    private static void CheckCandidates(IReadOnlyList<double> rates, string name)
    {
        if (rates.Count == 0) throw new ArgumentException("At least one learning rate is needed.", name);
        foreach (var r in rates)
            if (!(r > 0) || double.IsInfinity(r)) throw new ArgumentOutOfRangeException(name, r, "Learning rates must be positive and finite.");
    }
}
