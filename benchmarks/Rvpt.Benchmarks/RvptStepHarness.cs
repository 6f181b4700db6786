using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// One RVPT training step on a random-weight ViT-B/32, with exactly the library calls of the custom loop in
/// docs/rvpt.md (and of <see cref="FewShotTrainer"/>'s step): shared trunk (no grad), frozen branch (no grad),
/// prompted branch, <see cref="RepulsiveLoss"/> (CE over the class text features + alpha x repelling), backward,
/// <see cref="PromptSgd"/> — each step in its own dispose scope. The paper's settings: D = 3, b = 50, alpha = 2, SGD
/// (momentum 0.9, weight decay 5e-4, lr 0.002), 1000 classes. <c>benchmarks/reference/rvpt_step.py</c> runs the same
/// step in PyTorch eager.
/// </summary>
public sealed class RvptStepHarness : IDisposable
{
    private readonly RepulsiveLoss _loss = RepulsiveLoss.WithAlpha(2.0);
    private readonly PromptSgd _optimizer;
    private readonly Tensor _text;

    /// <summary>Builds the model (float32 weights), prompts and frozen class text features.</summary>
    /// <param name="device">Where everything runs.</param>
    /// <param name="computeDType">Compute dtype of the frozen tower: float32, or bfloat16 for the library's mixed precision.</param>
    /// <param name="classes">Number of classes of the cross-entropy.</param>
    /// <param name="seed">Seed of the random weights.</param>
    public RvptStepHarness(Device device, ScalarType computeDType, int classes = 1000, long seed = 0)
    {
        Device = device;
        Clip = ClipModel.Create(ClipConfig.ViTB32, seed, device);
        Prompts = DeepPromptInjector.For(Clip).FromBlock(3).Tokens(50).Seed(seed).Build();
        Prompts.SetComputeDType(computeDType);
        Prompts.train();
        _optimizer = new PromptSgd(Prompts.Prompts, momentum: 0.9, weightDecay: 5e-4);
        using var g = new Generator((ulong)seed + 1, CPU);
        _text = ClipModel.Normalize(randn(new long[] { classes, Clip.Config.EmbedDim }, generator: g)).to(device).DetachFromDisposeScope();
    }

    /// <summary>The random-weight ViT-B/32 CLIP.</summary>
    public ClipModel Clip { get; }

    /// <summary>The deep prompts (D = 3, b = 50).</summary>
    public DeepPromptInjector Prompts { get; }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>Random normalised-looking pixels and labels for <paramref name="batch"/> images (owned by the caller).</summary>
    public (Tensor Images, Tensor Labels) RandomBatch(int batch, long seed = 7)
    {
        using var g = new Generator((ulong)seed, CPU);
        var images = randn(new long[] { batch, 3, 224, 224 }, generator: g).to(Device).DetachFromDisposeScope();
        var labels = randint(0, _text.shape[0], new long[] { batch }, generator: g).to(Device).DetachFromDisposeScope();
        return (images, labels);
    }

    /// <summary>
    /// One step; returns the total loss (reading it synchronises with the device). With a
    /// <paramref name="frozenCache"/> and the samples' indices, the frozen branch runs only for samples not cached yet
    /// (<see cref="TrainingOptions.CacheFrozenClassTokens"/>).
    /// </summary>
    public float Step(Tensor images, Tensor labels, double learningRate = 0.002, FrozenClassTokenCache? frozenCache = null,
        IReadOnlyList<int>? indices = null)
    {
        using var scope = NewDisposeScope();
        var trunk = Prompts.RunSharedTrunk(images);
        var frozen = frozenCache is null
            ? Prompts.RunFrozen(trunk)
            : frozenCache.GetOrCompute(indices ?? throw new ArgumentNullException(nameof(indices)), () => Prompts.RunFrozen(trunk));
        var prompted = Prompts.RunPrompted(trunk);
        var result = _loss.Compute(prompted, frozen, _text, labels, Clip.LogitScale);
        _optimizer.ZeroGrad();
        result.Total.backward();
        _optimizer.Step(learningRate);
        return result.Total.item<float>();
    }

    /// <summary>Prompted forward and backward only (no optimiser step, no frozen branch): the cost of the prompted path.</summary>
    public float PromptedForwardBackward(Tensor images, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var trunk = Prompts.RunSharedTrunk(images);
        var prompted = Prompts.RunPrompted(trunk);
        var image = ClipModel.Normalize(prompted.ImageFeatures.to_type(ScalarType.Float32));
        var loss = nn.functional.cross_entropy(100 * image.matmul(_text.t()), labels);
        _optimizer.ZeroGrad();
        loss.backward();
        return loss.item<float>();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _text.Dispose();
        _optimizer.Dispose();
        Prompts.Dispose();
        Clip.Dispose();
    }
}
