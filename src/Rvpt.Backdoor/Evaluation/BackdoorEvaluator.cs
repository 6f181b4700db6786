using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Measures a classifier on a labelled test set: clean accuracy on the clean images (CLIP's resize and centre crop), and
/// attack success rate on the same images with a trigger applied in [0, 1] pixel space where <see cref="Placement"/>
/// says (by default as the attacks' code does: the whole image resized to S x S, the trigger, an 8-bit round trip),
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
    /// Where the trigger is applied. Default <see cref="TriggerPlacement.ResizeThenTrigger"/>, as CleanCLIP's and
    /// BadCLIP's evaluation code (<c>ImageLabelDataset</c> with <c>add_backdoor</c>); Rvpt's earlier placement is
    /// <see cref="TriggerPlacement.AfterCentreCrop"/>.
    /// </summary>
    public TriggerPlacement Placement { get; init; } = TriggerPlacement.ResizeThenTrigger;

    /// <summary>
    /// Evaluates <paramref name="classifier"/> on <paramref name="test"/>. With a trigger, each image's random choices
    /// are seeded from (<paramref name="seed"/>, its index), so results do not depend on the batch size. The pixels go
    /// to <paramref name="device"/> in <paramref name="dtype"/>, by default the classifier's model's
    /// (<see cref="IImageClassifier.Device"/>, <see cref="IImageClassifier.DType"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The classifier's and the data's class names differ.</exception>
    public BackdoorMetrics Evaluate(IImageClassifier classifier, ILabeledImageSource test, ITrigger? trigger, int targetClass,
        long seed = 0, Device? device = null, ScalarType? dtype = null, CancellationToken cancellationToken = default) =>
        Run(classifier, classifier, test, trigger, targetClass, seed, device, dtype, cancellationToken);

    /// <summary>
    /// Evaluates with a separate classifier for the triggered images: for TrojVQA, one whose class prompts carry the
    /// trigger's text key (<see cref="TrojVqaTrigger.KeyedTemplates"/>), as BadCLIP's evaluation builds them. Clean
    /// accuracy uses <paramref name="classifier"/>, attack success <paramref name="triggeredClassifier"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A classifier's class names differ from the test set's.</exception>
    public BackdoorMetrics Evaluate(IImageClassifier classifier, IImageClassifier triggeredClassifier, ILabeledImageSource test, ITrigger trigger,
        int targetClass, long seed = 0, Device? device = null, ScalarType? dtype = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(triggeredClassifier);
        ArgumentNullException.ThrowIfNull(trigger);
        return Run(classifier, triggeredClassifier, test, trigger, targetClass, seed, device, dtype, cancellationToken);
    }

    private BackdoorMetrics Run(IImageClassifier classifier, IImageClassifier triggeredClassifier, ILabeledImageSource test, ITrigger? trigger,
        int targetClass, long seed, Device? device, ScalarType? dtype, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(test);
        if (!classifier.ClassNames.SequenceEqual(test.ClassNames))
            throw new ArgumentException("The classifier's class names differ from the test set's.", nameof(classifier));
        if (!triggeredClassifier.ClassNames.SequenceEqual(test.ClassNames))
            throw new ArgumentException("The triggered-image classifier's class names differ from the test set's.", nameof(triggeredClassifier));
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
            var indices = Pixels01Batch.Range(start, n);
            Tensor pixels01Batch, triggerInput;
            if (trigger is null || Placement == TriggerPlacement.AfterCentreCrop)
            {
                pixels01Batch = Pixels01Batch.Load(test.LoadPixels01, indices, _transform, cancellationToken);
                triggerInput = pixels01Batch;
            }
            else
                (pixels01Batch, triggerInput) = Pixels01Batch.LoadTwoViews(test.LoadPixels01, indices, _transform.ApplyPixels01,
                    raw => TriggeredImage.BeforeTrigger(raw, Placement, _transform), cancellationToken);
            for (int i = 0; i < n; i++) labels[start + i] = test.GetLabel(start + i);

            Predict(classifier, pixels01Batch, targetDevice, targetDType).CopyTo(clean, start);
            if (trigger is not null)
            {
                var poisoned = cat(Enumerable.Range(0, n).Select(i => trigger.Apply(triggerInput.narrow(0, i, 1), SeedMixer.Offset64(seed, start + i))).ToArray(), 0);
                Predict(triggeredClassifier, TriggeredImage.AfterTrigger(poisoned, Placement), targetDevice, targetDType).CopyTo(triggered!, start);
            }
        }
        return BackdoorMetrics.Compute(labels, clean, triggered, targetClass, test.ClassNames.Count);
    }

    private long[] Predict(IImageClassifier classifier, Tensor pixels01Batch, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var pixels = _processor.Normalize(pixels01Batch).to(dtype, device);
        return classifier.Predict(pixels).cpu().to_type(ScalarType.Int64).data<long>().ToArray();
    }
}
