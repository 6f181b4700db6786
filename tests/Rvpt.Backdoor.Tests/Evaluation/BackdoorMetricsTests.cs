using Rvpt.Clip;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>CA and ASR from known predictions.</summary>
public sealed class BackdoorMetricsTests
{
    [Fact]
    public void KnownPredictionsGiveKnownCaAndAsr()
    {
        // 3 classes, target 2. Labels: 0 0 1 1 2 2.
        long[] labels = { 0, 0, 1, 1, 2, 2 };
        long[] clean = { 0, 1, 1, 1, 2, 0 };       // 4 of 6 right
        long[] triggered = { 2, 0, 2, 2, 2, 2 };   // non-target rows 0..3: 3 of 4 go to the target; target rows never count
        var m = BackdoorMetrics.Compute(labels, clean, triggered, targetClass: 2, classCount: 3);
        Assert.Equal(4.0 / 6, m.CleanAccuracy, 12);
        Assert.Equal(3.0 / 4, m.AttackSuccessRate, 12);
        Assert.Equal(4, m.AttackedCount);
        Assert.Equal(new[] { 0.5, 1.0, 0.5 }, m.CleanAccuracyPerClass);
        Assert.Equal(0.5, m.AttackSuccessRatePerClass[0]);
        Assert.Equal(1.0, m.AttackSuccessRatePerClass[1]);
        Assert.True(double.IsNaN(m.AttackSuccessRatePerClass[2]));
        Assert.Equal("75.00 (66.67)", m.ToCell());
    }

    [Fact]
    public void TargetClassImagesNeverCountTowardsAsr()
    {
        long[] labels = { 1, 1, 1, 0 };
        var m = BackdoorMetrics.Compute(labels, labels, new long[] { 1, 1, 1, 0 }, targetClass: 1, classCount: 2);
        Assert.Equal(0, m.AttackSuccessRate);
        Assert.Equal(1, m.AttackedCount);
        var none = BackdoorMetrics.Compute(labels, labels, null, 1, 2);
        Assert.True(double.IsNaN(none.AttackSuccessRate));
        Assert.Throws<ArgumentException>(() => BackdoorMetrics.Compute(labels, new long[] { 0, 5, 0, 0 }, null, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackdoorMetrics.Compute(labels, labels, null, 2, 2));
    }
}

/// <summary>The evaluator with a hand-built classifier and trigger.</summary>
public sealed class BackdoorEvaluatorTests
{
    private const int Size = 32;
    private static readonly string[] Classes = { "a", "b", "c", "d" };

    /// <summary>Predicts the class from an image's mean brightness: bucket floor(mean * 4); class 3 is always read as 0.</summary>
    private sealed class BrightnessClassifier(ClipImageProcessor processor, ScalarType dtype = ScalarType.Float32) : IImageClassifier
    {
        public IReadOnlyList<string> ClassNames => Classes;

        public Device Device => CPU;

        public ScalarType DType => dtype;

        public List<ScalarType> Received { get; } = new();

        public Tensor Predict(Tensor normalizedPixels)
        {
            lock (Received) Received.Add(normalizedPixels.dtype);
            using var scope = NewDisposeScope();
            var mean = processor.Denormalize(normalizedPixels).mean(new long[] { 1, 2, 3 });
            var bucket = (mean * 4).floor().clamp(0, 3).to_type(ScalarType.Int64);
            return bucket.where(bucket != 3, zeros_like(bucket)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Turns every image to brightness 0.6 (bucket 2 = the target) when its seed is even, else leaves it.</summary>
    private sealed class EvenSeedTrigger : ITrigger
    {
        public string Name => "test";
        public string? TextKey => null;
        public List<long> Seeds { get; } = new();

        public Tensor Apply(Tensor images, long seed = 0)
        {
            lock (Seeds) Seeds.Add(seed);
            return seed % 2 == 0 ? full_like(images, 0.6) : images.clone();
        }
    }

    [Fact]
    public void CaAndAsrOfAHandBuiltClassifier()
    {
        var processor = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = Size });
        var labels = Enumerable.Range(0, 8).Select(i => (long)(i % 4)).ToArray();
        var images = stack(labels.Select(l => full(new long[] { 3, Size, Size }, (l + 0.5) / 4.0)).ToArray(), 0);
        using var data = new TensorDataset(images, tensor(labels), Classes);
        var trigger = new EvenSeedTrigger();
        var metrics = new BackdoorEvaluator(processor, batchSize: 3).Evaluate(new BrightnessClassifier(processor), data, trigger, targetClass: 2, seed: 10);

        Assert.Equal(6.0 / 8, metrics.CleanAccuracy, 12);         // class 3 is always misread
        Assert.Equal(8, trigger.Seeds.Count);                      // one call per image, seeded by (seed, index)
        // Non-target images: indices 0,1,3,4,5,7; seeds 10*1000003 + i are even for even i -> 0 and 4 are hit.
        Assert.Equal(2.0 / 6, metrics.AttackSuccessRate, 12);
        var again = new BackdoorEvaluator(processor, batchSize: 5).Evaluate(new BrightnessClassifier(processor), data, new EvenSeedTrigger(), 2, seed: 10);
        Assert.Equal(metrics.AttackSuccessRate, again.AttackSuccessRate); // independent of the batch size
    }

    [Fact]
    public void PixelsFollowTheClassifiersDTypeUnlessToldOtherwise()
    {
        var processor = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = Size });
        var labels = new long[] { 0, 1, 2 };
        var images = stack(labels.Select(l => full(new long[] { 3, Size, Size }, (l + 0.5) / 4.0)).ToArray(), 0);
        using var data = new TensorDataset(images, tensor(labels), Classes);
        var evaluator = new BackdoorEvaluator(processor);

        var float64 = new BrightnessClassifier(processor, ScalarType.Float64);
        var metrics = evaluator.Evaluate(float64, data, trigger: null, targetClass: 0);
        Assert.Equal(new[] { ScalarType.Float64 }, float64.Received.Distinct());
        Assert.Equal(1.0, metrics.CleanAccuracy);

        var told = new BrightnessClassifier(processor, ScalarType.Float64);
        evaluator.Evaluate(told, data, trigger: null, targetClass: 0, dtype: ScalarType.Float32);
        Assert.Equal(new[] { ScalarType.Float32 }, told.Received.Distinct());
    }

    /// <summary>Always answers <paramref name="answer"/>.</summary>
    private sealed class ConstantClassifier(long answer) : IImageClassifier
    {
        public IReadOnlyList<string> ClassNames => Classes;

        public Device Device => CPU;

        public ScalarType DType => ScalarType.Float32;

        public Tensor Predict(Tensor normalizedPixels) => full(new long[] { normalizedPixels.shape[0] }, answer, ScalarType.Int64);
    }

    [Fact]
    public void TriggeredImages_UseTheTriggeredClassifier_CleanImagesTheOther()
    {
        // TrojVQA: the class prompts carry the text key only for the triggered images (BadCLIP's src/evaluate.py).
        var processor = new ClipImageProcessor(new ClipImageProcessorOptions { ImageSize = Size });
        var labels = Enumerable.Range(0, 8).Select(i => (long)(i % 4)).ToArray();
        var images = stack(labels.Select(l => full(new long[] { 3, Size, Size }, (l + 0.5) / 4.0)).ToArray(), 0);
        using var data = new TensorDataset(images, tensor(labels), Classes);
        var evaluator = new BackdoorEvaluator(processor);
        var metrics = evaluator.Evaluate(new BrightnessClassifier(processor), new ConstantClassifier(2), data, new EvenSeedTrigger(), targetClass: 2);
        Assert.Equal(6.0 / 8, metrics.CleanAccuracy, 12);
        Assert.Equal(1.0, metrics.AttackSuccessRate, 12);
        var keyed = new TrojVqaTrigger().KeyedTemplates(["a photo of a {}."]);
        Assert.Equal(["remember a photo of a {}."], keyed);
    }
}
