using static TorchSharp.torch;

namespace Rvpt;

/// <summary>Few-shot prompt-tuning settings; defaults are the paper's (CoOp-style details inferred, see docs/rvpt.md).</summary>
public sealed record TrainingOptions
{
    /// <summary>Epochs over the few-shot set. Default 50.</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Images per step. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Peak SGD learning rate. Default 0.002.</summary>
    public double LearningRate { get; init; } = 0.002;

    /// <summary>SGD momentum. Default 0.9.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay on the prompts. Default 5e-4.</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Epochs at the constant warm-up rate before the cosine schedule. Default 1.</summary>
    public int WarmupEpochs { get; init; } = 1;

    /// <summary>Constant learning rate during warm-up. Default 1e-5.</summary>
    public double WarmupLearningRate { get; init; } = 1e-5;

    /// <summary>Random resized crop + horizontal flip on training images. Default true.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>
    /// Drop the last incomplete batch of every epoch, as CoOp's training loader does (Dassl's
    /// <c>build_data_loader</c>: <c>drop_last=is_train and len(data_source) &gt;= batch_size</c>): it is dropped only when
    /// the set holds at least one full batch. Default true. (Before this option the last partial batch was always
    /// trained on; set false for that.)
    /// </summary>
    public bool DropLast { get; init; } = true;

    /// <summary>Seed of shuffling, augmentation and prompt dropout. Default 1.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Folder for the resumable training checkpoint (written atomically after every epoch); null for none.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>
    /// Also write the checkpoint every this many steps within an epoch (it is always written after every epoch and on
    /// cancellation); 0 for epoch ends only. Default 0. Each write costs about the prompts' size in disk traffic.
    /// </summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>
    /// Mixed precision: the element type the frozen CLIP image tower computes in during training (e.g.
    /// <see cref="ScalarType.BFloat16"/>), while the prompts stay in their master dtype (float32) and the loss is
    /// computed in float32; see <see cref="DeepPromptInjector.SetComputeDType"/>. Null (the default) computes in the
    /// model's own dtype. On CPUs with native bfloat16 instructions (avx512_bf16, AMX) this about halves a step; the
    /// loss and features then agree with float32 within bfloat16's precision (docs/performance.md gives the measured
    /// agreement).
    /// </summary>
    public ScalarType? ComputeDType { get; init; }

    /// <summary>
    /// Keep each sample's frozen-branch class tokens after its first step and reuse them in later epochs instead of
    /// running the frozen branch again (<see cref="FrozenClassTokenCache"/>). Takes effect only with
    /// <see cref="Augment"/> off (an augmented image differs every epoch); the results are the same as without it.
    /// Costs <c>samples x (L - D) x width</c> values in the compute dtype on the model's device (ViT-B/32, D = 3,
    /// 16 shots x 1000 classes: 442 MB in float32), counted against <see cref="CacheMemoryBudget"/>. Default true.
    /// </summary>
    public bool CacheFrozenClassTokens { get; init; } = true;

    /// <summary>
    /// Keep each sample's shared-trunk output (patch embedding and blocks 1..D, every token) after its first step and
    /// start later epochs at block D + 1 (<see cref="SharedTrunkCache"/>). Takes effect only with <see cref="Augment"/>
    /// off; the trained prompts are bit-identical to a run without it. Costs <c>samples x tokens x width</c> values in
    /// the compute dtype on the model's device: ViT-B/32 with 16 shots x 1000 classes, 1.23 GB in bfloat16 (2.46 GB in
    /// float32), counted against <see cref="CacheMemoryBudget"/> after the frozen class tokens. Default true.
    /// </summary>
    public bool CacheSharedTrunk { get; init; } = true;

    /// <summary>
    /// Bytes the per-sample caches (<see cref="CacheFrozenClassTokens"/>, then <see cref="CacheSharedTrunk"/>) may hold
    /// together on the model's device. A cache whose full size does not fit is not kept, with an information message;
    /// that costs speed, never results. Default 2 GiB: ViT-B/32 with 16 shots x 1000 classes keeps both caches in
    /// bfloat16 (221 MB + 1.23 GB) and the frozen class tokens alone in float32 (442 MB; the trunk's 2.46 GB is over).
    /// 0 keeps none.
    /// </summary>
    public long CacheMemoryBudget { get; init; } = 2L << 30;

    /// <summary>
    /// The optimiser of the prompts. Default <see cref="PromptOptimizer.Sgd"/> (the paper's: <see cref="LearningRate"/>,
    /// <see cref="Momentum"/>, <see cref="WeightDecay"/>). <see cref="PromptOptimizer.AdamW"/> uses
    /// <see cref="LearningRate"/>, <see cref="AdamBeta1"/>, <see cref="AdamBeta2"/>, <see cref="AdamEpsilon"/> and
    /// <see cref="WeightDecay"/> as decoupled decay (the builder's <c>AdamW()</c> sets 0.01, PyTorch's default); the
    /// schedule (warm-up, cosine) is the same.
    /// </summary>
    public PromptOptimizer Optimizer { get; init; } = PromptOptimizer.Sgd;

    /// <summary>AdamW's first-moment decay. Default 0.9.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>AdamW's second-moment decay. Default 0.999.</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>AdamW's epsilon. Default 1e-8.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>
    /// With a validation set (<see cref="FewShotTrainerBuilder.WithValidation"/>): stop when the validation accuracy
    /// has not improved for this many epochs, and leave the prompts of the best epoch in place; 0 (the default) never
    /// stops early. The validation history is not part of the resumable state: after a resume it starts again.
    /// </summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>
    /// The batch loader's settings for a training set of <paramref name="count"/> images: shuffled, augmented as
    /// <see cref="Augment"/> says, seeded with <see cref="Seed"/>; CoOp (Dassl) drops the incomplete last batch only
    /// when <see cref="DropLast"/> is set and the set holds at least one full batch.
    /// </summary>
    internal BatchLoaderOptions LoaderOptions(int count) => new()
    {
        BatchSize = BatchSize, Shuffle = true, Augment = Augment, Seed = Seed,
        DropLast = DropLast && count >= BatchSize,
    };

    /// <summary>Checks the values; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be >= 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be >= 1.");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be > 0.");
        if (Momentum is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "Momentum must be in [0, 1).");
        if (WeightDecay < 0) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be >= 0.");
        if (WarmupEpochs < 0 || WarmupEpochs >= Epochs) throw new ArgumentOutOfRangeException(nameof(WarmupEpochs), WarmupEpochs, $"WarmupEpochs ({WarmupEpochs}) must be in [0, Epochs = {Epochs}): the warm-up epochs run at WarmupLearningRate before the cosine schedule. For a run of {Epochs} epoch(s) set fewer, e.g. the builder's Warmup(epochs: 0).");
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, "Unknown optimiser.");
        if (AdamBeta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(AdamBeta1), AdamBeta1, "AdamBeta1 must be in [0, 1).");
        if (AdamBeta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(AdamBeta2), AdamBeta2, "AdamBeta2 must be in [0, 1).");
        if (!(AdamEpsilon > 0)) throw new ArgumentOutOfRangeException(nameof(AdamEpsilon), AdamEpsilon, "AdamEpsilon must be > 0.");
        if (EarlyStoppingPatience < 0) throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "EarlyStoppingPatience must be >= 0.");
        if (CheckpointEverySteps < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointEverySteps), CheckpointEverySteps, "CheckpointEverySteps must be >= 0.");
        if (!(WarmupLearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(WarmupLearningRate), WarmupLearningRate, "WarmupLearningRate must be >= 0.");
        if (CacheMemoryBudget < 0) throw new ArgumentOutOfRangeException(nameof(CacheMemoryBudget), CacheMemoryBudget, "CacheMemoryBudget must be >= 0 bytes.");
        if (ComputeDType is { } dtype && !is_floating_point(dtype)) throw new ArgumentOutOfRangeException(nameof(ComputeDType), dtype, "ComputeDType must be a floating-point type.");
    }
}
