// Issue 12, item 4 (explain the outcome): how far full fine-tuning on the few shots moves the planted image encoder,
// against how far planting moved the clean one. For each fine-tuning learning rate: ||ft - planted|| / ||planted -
// clean|| over the image tower's weights, the cosine between the fine-tuning step (ft - planted) and the way back to
// the clean model (clean - planted), the share of the planting displacement undone (the projection of ft - planted on
// clean - planted over ||planted - clean||), clean validation accuracy (what selection reads) and the test CA / ASR.
// The demo's lab and its cached models; no RVPT involved.
//   displacement <store> [attack] [lrs] [seed] [visionWidth visionLayers] [shots] [sgd|adamw]   (the lab's clean model of that
//   tower, as GateB's w and L; shots per class of the fine-tuning set, default 16, the defender pool is twice the shots
//   of the 12 classes, at least 768 images; the fine-tuning optimiser, default SGD as the demo's, AdamW with weight
//   decay 0.1 as GateB's ftopt=adamw ftwd=0.1)
using System.Diagnostics;
using System.Globalization;
using Rvpt;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using static TorchSharp.torch;

internal static class Displacement
{
    public static void Run(string[] args)
    {
        var labOptions = new SyntheticLabOptions();
        if (args.Length > 5)
        {
            int width = int.Parse(args[4], CultureInfo.InvariantCulture);
            labOptions = labOptions with { Model = labOptions.Model with { VisionWidth = width, VisionLayers = int.Parse(args[5], CultureInfo.InvariantCulture), VisionHeads = width / 32 } };
        }
        var lab = new SyntheticBackdoorLab(new SyntheticModelStore(args[0]), labOptions);
        var attack = Enum.Parse<SyntheticAttack>(args.Length > 1 ? args[1] : "badclip", true);
        var rates = (args.Length > 2 ? args[2] : "1e-4,1e-3,1e-2").Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        long seed = args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : 1;
        var clock = Stopwatch.StartNew();
        using var clean = lab.GetCleanModel();
        using var planted = lab.GetPlantedModel(attack, clean);
        using var test = lab.TestSet(1_200);
        using var validation = lab.ValidationSet(600);
        int shotsPerClass = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : 16;
        using var pool = lab.DefenderPool(Math.Max(768, 2 * 12 * shotsPerClass)); // twice the shots of the 12 classes, so every class has enough
        var shots = FewShotSampler.Sample(pool, shotsPerClass, seed);
        bool adamW = args.Length > 7 && args[7].Equals("adamw", StringComparison.OrdinalIgnoreCase);
        var evaluator = new BackdoorEvaluator(clean.ImageProcessor, 200);
        (double Ca, double Asr) Measure(ClipModel m)
        {
            using var c = ZeroShotImageClassifier.Create(m, test.ClassNames, PromptTemplates.APhotoOfA);
            var r = evaluator.Evaluate(c, test, planted.Trigger, lab.TargetClassIndex);
            return (100 * r.CleanAccuracy, 100 * r.AttackSuccessRate);
        }
        double Validation(ClipModel m)
        {
            using var c = ZeroShotImageClassifier.Create(m, validation.ClassNames, PromptTemplates.APhotoOfA);
            return 100 * evaluator.Evaluate(c, validation, null, lab.TargetClassIndex).CleanAccuracy;
        }
        var back = Difference(clean, planted.Model); // clean - planted
        double backNorm = Norm(back);
        var p = Measure(planted.Model);
        Console.WriteLine($"{attack}, {shotsPerClass} shots per class, {(adamW ? "AdamW" : "SGD")}: ||planted - clean|| = {backNorm:F4} over the image tower; planted CA {p.Ca:F2} ASR {p.Asr:F2} ({clock.Elapsed.TotalSeconds:F0} s)");
        foreach (var lr in rates)
        {
            var training = new TrainingOptions { LearningRate = lr, Augment = false, Seed = seed };
            if (adamW) training = training with { Optimizer = PromptOptimizer.AdamW, WeightDecay = 0.1 };
            var options = new FullFineTuningOptions { UnrepelledDepth = 1, Training = training };
            using var tuned = FullFineTuning.Train(planted.Model, shots, PromptTemplates.APhotoOfA, options);
            var step = Difference(tuned, planted.Model); // ft - planted
            double stepNorm = Norm(step), dot = Dot(step, back);
            var t = Measure(tuned);
            Console.WriteLine(FormattableString.Invariant(
                $"lr {lr:G3}: ||ft - planted|| / ||planted - clean|| = {stepNorm / backNorm:F3}; cos(ft - planted, clean - planted) = {dot / (stepNorm * backNorm):F3}; planting undone {100 * dot / (backNorm * backNorm):F1}%; val {Validation(tuned):F2}; CA {t.Ca:F2} ASR {t.Asr:F2} ({clock.Elapsed.TotalSeconds:F0} s)"));
            foreach (var d in step.Values) d.Dispose();
        }
        foreach (var d in back.Values) d.Dispose();
    }

    /// <summary>a - b over the image tower's parameters (float64).</summary>
    private static Dictionary<string, Tensor> Difference(ClipModel a, ClipModel b)
    {
        var bs = b.Visual.state_dict();
        return a.Visual.state_dict().Where(kv => kv.Value.is_floating_point())
            .ToDictionary(kv => kv.Key, kv => (kv.Value.to_type(ScalarType.Float64) - bs[kv.Key].to_type(ScalarType.Float64)).DetachFromDisposeScope());
    }

    private static double Dot(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) => a.Sum(kv => (kv.Value * b[kv.Key]).sum().item<double>());

    private static double Norm(Dictionary<string, Tensor> a) => Math.Sqrt(Dot(a, a));
}
