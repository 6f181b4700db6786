using Rvpt.Clip;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// The linear-probe baseline: a linear classifier trained with SGD on CLIP's frozen, L2-normalised image features of
/// the few-shot set (features computed once, without augmentation). Owns its weights: dispose it.
/// </summary>
public sealed class LinearProbe : IImageClassifier, IDisposable
{
    private readonly ClipModel _clip;
    private readonly Linear _head;

    private LinearProbe(ClipModel clip, Linear head, IReadOnlyList<string> classNames)
    {
        _clip = clip;
        _head = head;
        ClassNames = classNames;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The CLIP model's device.</summary>
    public Device Device => _clip.Device;

    /// <summary>The CLIP model's dtype.</summary>
    public ScalarType DType => _clip.DType;

    /// <summary>Trains a probe on <paramref name="train"/>.</summary>
    public static LinearProbe Train(ClipModel clip, ILabeledImageSource train, LinearProbeOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clip);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new LinearProbeOptions();
        if (train.Count == 0) throw new ArgumentException("The training set is empty.", nameof(train));

        using var features = Features(clip, train, cancellationToken);
        var labels = tensor(Enumerable.Range(0, train.Count).Select(i => (long)train.GetLabel(i)).ToArray());
        var head = nn.Linear(features.shape[1], train.ClassNames.Count);
        InitializeHead(head, options.Seed);
        using var optimizer = optim.SGD(head.parameters(), options.LearningRate, momentum: options.Momentum);
        var random = new Random(SeedMixer.To32(options.Seed));
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = Enumerable.Range(0, train.Count).ToArray();
            random.Shuffle(order);
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var idx = tensor(order.Skip(start).Take(options.BatchSize).Select(i => (long)i).ToArray());
                var loss = nn.functional.cross_entropy(head.forward(features.index_select(0, idx)), labels.index_select(0, idx));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }
        labels.Dispose();
        head.to(clip.Device);
        head.eval();
        return new LinearProbe(clip, head, train.ClassNames.ToArray());
    }

    /// <inheritdoc />
    public Tensor Predict(Tensor normalizedPixels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var f = ClipModel.Normalize(_clip.EncodeImage(normalizedPixels).to_type(ScalarType.Float32));
        return _head.forward(f.to(_head.weight!.device)).argmax(-1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose() => _head.Dispose();

    private static Tensor Features(ClipModel clip, ILabeledImageSource data, CancellationToken cancellationToken)
    {
        var transform = new ClipEvalTransform(clip.ImageProcessor);
        var chunks = new List<Tensor>();
        using var noGrad = no_grad();
        for (int start = 0; start < data.Count; start += 64)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var pixels01 = Pixels01Batch.Load(data.LoadPixels01, Pixels01Batch.Range(start, Math.Min(64, data.Count - start)), transform, cancellationToken);
            var f = clip.EncodeImage(clip.ImageProcessor.Normalize(pixels01).to(clip.DType, clip.Device));
            chunks.Add(ClipModel.Normalize(f.to_type(ScalarType.Float32)).cpu().MoveToOuterDisposeScope());
        }
        var all = cat(chunks, 0);
        foreach (var c in chunks) c.Dispose();
        return all;
    }
    /// <summary>
    /// nn.Linear's default initialisation (weight: kaiming_uniform_ with a = sqrt 5, bias: U(+-fan_in^-0.5)), drawn
    /// from a generator seeded with <paramref name="seed"/> rather than libtorch's global one, which other threads of
    /// the process may draw from at the same time. The bounds are computed as libtorch's <c>kaiming_uniform_</c> does,
    /// so the draws equal <c>torch.manual_seed(seed)</c> followed by <c>nn.Linear</c>.
    /// </summary>
    internal static void InitializeHead(Linear head, long seed)
    {
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        using var noGrad = no_grad();
        double fanIn = head.weight!.shape[1];
        double gain = Math.Sqrt(2.0 / (1 + Math.Pow(Math.Sqrt(5), 2)));
        double weightBound = Math.Sqrt(3.0) * (gain / Math.Sqrt(fanIn));
        head.weight.uniform_(-weightBound, weightBound, generator);
        double biasBound = 1 / Math.Sqrt(fanIn);
        head.bias!.uniform_(-biasBound, biasBound, generator);
    }
}
