using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// The library's own RVPT training step (<see cref="RvptStep"/>, the one <see cref="FewShotTrainer"/> runs, finite-value
/// checks included) on a random-weight ViT-B/32: images checked and moved to the device in the compute dtype, shared
/// trunk (no grad), frozen branch (no grad), prompted branch, <see cref="RepulsiveLoss"/> (CE over the class text
/// features + alpha x repelling), backward, <see cref="PromptSgd"/> — each step in its own dispose scope. The paper's
/// settings: D = 3, b = 50, alpha = 2, SGD (momentum 0.9, weight decay 5e-4, lr 0.002), 1000 classes.
/// <c>benchmarks/reference/rvpt_step.py</c> runs the same step in PyTorch eager.
/// </summary>
public sealed class RvptStepHarness : IDisposable
{
    private readonly RepulsiveLoss _loss = new RepulsiveLoss(2.0);
    private readonly IPromptOptimizer _optimizer;
    private readonly Tensor _text;
    private SharedTrunkCache? _trunkCache;
    private FrozenClassTokenCache? _frozenCache;
    private RvptStep _step;
    private int _steps;

    /// <summary>Builds the model (float32 weights), prompts and frozen class text features.</summary>
    /// <param name="device">Where everything runs.</param>
    /// <param name="computeDType">Compute dtype of the frozen tower: float32, or bfloat16 for the library's mixed precision.</param>
    /// <param name="classes">Number of classes of the cross-entropy.</param>
    /// <param name="seed">Seed of the random weights.</param>
    /// <param name="classTokenOnlyLastBlock">Sets <see cref="DeepPromptInjector.ClassTokenOnlyLastBlock"/>.</param>
    /// <param name="skipPromptOutputs">Sets <see cref="DeepPromptInjector.SkipReplacedPromptOutputs"/>.</param>
    public RvptStepHarness(Device device, ScalarType computeDType, int classes = 1000, long seed = 0, bool classTokenOnlyLastBlock = false, bool skipPromptOutputs = false)
    {
        Device = device;
        Clip = ClipModel.Create(ClipConfig.ViTB32, seed, device);
        Prompts = DeepPromptInjector.For(Clip).FromBlock(3).Tokens(50).Seed(seed).Build();
        Prompts.SetComputeDType(computeDType);
        Prompts.ClassTokenOnlyLastBlock = classTokenOnlyLastBlock;
        Prompts.SkipReplacedPromptOutputs = skipPromptOutputs;
        Prompts.train();
        _optimizer = IPromptOptimizer.Create(Prompts.Prompts, new TrainingOptions()); // the paper's SGD: momentum 0.9, weight decay 5e-4
        using var g = new Generator((ulong)seed + 1, CPU);
        _text = ClipModel.Normalize(randn(new long[] { classes, Clip.Config.EmbedDim }, generator: g)).to(device).DetachFromDisposeScope();
        _step = NewStep();
    }

    /// <summary>The random-weight ViT-B/32 CLIP.</summary>
    public ClipModel Clip { get; }

    /// <summary>The deep prompts (D = 3, b = 50).</summary>
    public DeepPromptInjector Prompts { get; }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>
    /// From now on, keep per-sample trunk outputs and/or frozen class tokens for <paramref name="samples"/> samples, as
    /// <see cref="TrainingOptions.CacheSharedTrunk"/> and <see cref="TrainingOptions.CacheFrozenClassTokens"/> do.
    /// </summary>
    public void UseCaches(int samples, bool trunk, bool frozen)
    {
        _trunkCache?.Dispose();
        _frozenCache?.Dispose();
        _trunkCache = trunk ? new SharedTrunkCache(samples) : null;
        _frozenCache = frozen ? new FrozenClassTokenCache(samples) : null;
        _step = NewStep();
    }

    private RvptStep NewStep() => new(Prompts, _loss, _text, _optimizer, seed: 1, _trunkCache, _frozenCache,
        i => $"sample {i}", () => "No checkpoint folder was set.");

    /// <summary>
    /// A batch as <see cref="BatchLoader"/> hands it to the trainer — random normalised-looking float32 pixels and
    /// int64 labels on the CPU — for samples <c>firstIndex..firstIndex+batch-1</c>. The caller disposes it.
    /// </summary>
    public ImageBatch RandomBatch(int batch, long seed = 7, int firstIndex = 0)
    {
        using var g = new Generator((ulong)seed, CPU);
        var images = randn(new long[] { batch, 3, 224, 224 }, generator: g).DetachFromDisposeScope();
        var labels = randint(0, _text.shape[0], new long[] { batch }, generator: g).DetachFromDisposeScope();
        return new ImageBatch(images, labels, Enumerable.Range(firstIndex, batch).ToArray());
    }

    /// <summary>One step (<see cref="RvptStep.Run"/>); returns the total loss (reading it synchronises with the device).</summary>
    public float Step(ImageBatch batch, double learningRate = 0.002) =>
        (float)_step.Run(batch, epoch: 0, step: _steps++, learningRate).Loss;

    /// <summary>Prompted forward and backward only (no optimiser step, no frozen branch): the cost of the prompted path.</summary>
    public float PromptedForwardBackward(ImageBatch batch)
    {
        using var scope = NewDisposeScope();
        var trunk = Prompts.RunSharedTrunk(batch.Images.to(Prompts.ComputeDType, Device));
        var prompted = Prompts.RunPrompted(trunk);
        var image = ClipModel.Normalize(prompted.ImageFeatures.to_type(ScalarType.Float32));
        var loss = nn.functional.cross_entropy(100 * image.matmul(_text.t()), batch.Labels.to(Device));
        _optimizer.ZeroGrad();
        loss.backward();
        return loss.item<float>();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _trunkCache?.Dispose();
        _frozenCache?.Dispose();
        _text.Dispose();
        _optimizer.Dispose();
        Prompts.Dispose();
        Clip.Dispose();
    }
}
