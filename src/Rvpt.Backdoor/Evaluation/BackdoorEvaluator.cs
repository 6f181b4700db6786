using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Measures a classifier on a labelled test set: clean accuracy on the clean images, and attack success rate on the
/// same images with a trigger applied in [0, 1] pixel space after CLIP's resize and centre crop (as the paper does),
/// then normalised.
/// </summary>
public sealed class BackdoorEvaluator
{
    private readonly ClipImageProcessor _processor;
    private readonly ClipEvalTransform _transform;

    /// <summary>Creates an evaluator for images of <paramref name="processor"/>'s size.</summary>
    public BackdoorEvaluator(ClipImageProcessor processor, int batchSize = 64)
    {
        _processor = processor ?? throw new ArgumentNullException(nameof(processor));
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be >= 1.");
        BatchSize = batchSize;
        _transform = new ClipEvalTransform(processor);
    }

    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// Evaluates <paramref name="classifier"/> on <paramref name="test"/>. With a trigger, each image's random choices
    /// are seeded from (<paramref name="seed"/>, its index), so results do not depend on the batch size. The pixels go
    /// to <paramref name="device"/> in <paramref name="dtype"/>, by default the classifier's model's
    /// (<see cref="IImageClassifier.Device"/>, <see cref="IImageClassifier.DType"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The classifier's and the data's class names differ.</exception>
    public BackdoorMetrics Evaluate(IImageClassifier classifier, ILabeledImageSource test, ITrigger? trigger, int targetClass,
        long seed = 0, Device? device = null, ScalarType? dtype = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(test);
        if (!classifier.ClassNames.SequenceEqual(test.ClassNames))
            throw new ArgumentException("The classifier's class names differ from the test set's.", nameof(classifier));
        var targetDevice = device ?? classifier.Device;
        var targetDType = dtype ?? classifier.DType;
        var labels = new long[test.Count];
        var clean = new long[test.Count];
        var triggered = trigger is null ? null : new long[test.Count];
        using var noGrad = no_grad();
        for (int start = 0; start < test.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, test.Count - start);
            using var scope = NewDisposeScope();
            var unitBatch = UnitImageBatch.Load(test.LoadUnitImage, UnitImageBatch.Range(start, n), _transform, cancellationToken);
            for (int i = 0; i < n; i++) labels[start + i] = test.GetLabel(start + i);

            Predict(classifier, unitBatch, targetDevice, targetDType).CopyTo(clean, start);
            if (trigger is not null)
            {
                var poisoned = cat(Enumerable.Range(0, n).Select(i => trigger.Apply(unitBatch.narrow(0, i, 1), Mix(seed, start + i))).ToArray(), 0);
                Predict(classifier, poisoned, targetDevice, targetDType).CopyTo(triggered!, start);
            }
        }
        return BackdoorMetrics.Compute(labels, clean, triggered, targetClass, test.ClassNames.Count);
    }

    private long[] Predict(IImageClassifier classifier, Tensor unitBatch, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var pixels = _processor.Normalize(unitBatch).to(dtype, device);
        return classifier.Predict(pixels).cpu().to_type(ScalarType.Int64).data<long>().ToArray();
    }

    private static long Mix(long seed, int index) => unchecked(seed * 1_000_003L + index);
}
