// The share of clean, non-target test images a classifier calls the target class: separates a planting's clean-accuracy
// cost that flows into the target (the trigger resembling something in clean images) from damage spread over all classes.
using Rvpt;
using Rvpt.Backdoor;
using Rvpt.Clip;
using static TorchSharp.torch;

internal static class TargetShare
{
    public static double Compute(IImageClassifier classifier, TensorDataset test, ClipImageProcessor processor, int target)
    {
        int hits = 0, count = 0;
        for (int start = 0; start < test.Count; start += 64)
        {
            using var scope = NewDisposeScope();
            var idx = Enumerable.Range(start, Math.Min(64, test.Count - start)).Where(i => test.GetLabel(i) != target).ToArray();
            if (idx.Length == 0) continue;
            var pixels = stack(idx.Select(test.LoadPixels01).ToArray());
            var predictions = classifier.Predict(processor.Normalize(pixels).to(classifier.DType, classifier.Device)).cpu();
            hits += (int)predictions.eq(target).sum().item<long>();
            count += idx.Length;
        }
        return 100.0 * hits / count;
    }
}
