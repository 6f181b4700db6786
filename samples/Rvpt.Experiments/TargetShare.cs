// The share of clean, non-target test images a classifier calls the target class: separates a planting's clean-accuracy
// cost that flows into the target (the trigger resembling something in clean images) from damage spread over all classes.
// It is the attack success rate of a trigger that changes nothing, so BackdoorEvaluator measures it as it measures ASR.
using Rvpt;
using Rvpt.Backdoor;
using static TorchSharp.torch;

internal static class TargetShare
{
    public static double Compute(BackdoorEvaluator evaluator, IImageClassifier classifier, TensorDataset test, int target) =>
        100 * evaluator.Evaluate(classifier, test, NoTrigger.Instance, target).AttackSuccessRate;

    private sealed class NoTrigger : ITrigger
    {
        public static readonly NoTrigger Instance = new();
        public string Name => "none";
        public string? TextKey => null;
        public Tensor Apply(Tensor images, long seed = 0) => images.alias();
    }
}
