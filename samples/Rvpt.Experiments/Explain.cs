// Issue 12, item 4: where does a trigger move the final image feature? For each attack of the demo's lab (default
// SyntheticLabOptions, models from the demo's cache), on non-target test images x and their triggered versions x':
// the shift d = f(x') - f(x) of the normalised image feature is split into its component along the target class's
// text direction, along the other classes' text directions (orthogonalised against the target's), and the rest.
// Measured for the clean model, the backdoored model, and the backdoored model with plain VPT and with RVPT prompts
// (alpha 2, the demo's geometry and training, learning rate chosen on clean validation from 0.002, 0.02, 0.2).
//   explain <cacheDir> [attacks=badnets,blended,badclip] [images=500] [calibrated]
// "calibrated": the world of docs/results.md that passes gates A, B and C (the demo's --calibrated preset: width 192 x 6,
// the defended task's shapes at 0.93, BadCLIP at 5% poison, 256 shots for 8 epochs, prompts at D = 3, b = 4); its
// models from <cacheDir> (the preset's keys).
// Appends a JSON line per attack and model to <root>/explain.jsonl.
using System.Globalization;
using System.Text.Json;
using Rvpt;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

internal static class Explain
{
    public static void Run(string[] args, string root)
    {
        var cacheDir = args[0];
        var attacks = (args.Length > 1 ? args[1] : "badnets,blended,badclip").Split(',')
            .Select(a => Enum.Parse<SyntheticAttack>(a, ignoreCase: true)).ToArray();
        int images = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 500;
        bool calibrated = args.Length > 3 && args[3] == "calibrated";
        var world = calibrated ? World.Calibrated : World.Demo;

        using var setting = new Setting(cacheDir, world, images);
        Console.WriteLine($"{setting.NonTarget.Length} non-target test images; target {setting.Lab.Options.TargetClass} (index {setting.Lab.TargetClassIndex}); {(calibrated ? "the calibrated world" : "the demo's world")}");

        foreach (var attack in attacks)
        {
            using var planted = setting.Plant(attack);
            Report(attack, "clean model", setting.Clean, null, planted.Trigger, setting.Test, setting.NonTarget, setting.Lab.TargetClassIndex, root);
            Report(attack, "backdoored", planted.Model, null, planted.Trigger, setting.Test, setting.NonTarget, setting.Lab.TargetClassIndex, root);
            foreach (var (name, alpha) in new[] { ("backdoored + VPT", 0.0), ("backdoored + RVPT", 2.0) })
            {
                var (best, _, _) = TrainBestOnValidation(planted.Model, new RepulsiveLoss(alpha), setting.Shots, setting.Test.ClassNames, setting.Validation, world);
                using (best)
                    Report(attack, name, planted.Model, best, planted.Trigger, setting.Test, setting.NonTarget, setting.Lab.TargetClassIndex, root);
            }
        }
    }

    // Issue 12, item 4's ablations of the repelling term (not defaults; the paper's loss is "paper"): the same training
    // as RVPT above (alpha 2, the world's geometry and training, seed 1, no augmentation, learning rate chosen on
    // clean validation from 0.002, 0.02, 0.2), with the term on per-block normalised class tokens ("normalized"), on the
    // last block only ("last"), or with a margin ("margin<m>"). Reports CA, ASR, the final repelling cosine and the
    // trigger's shift as above; appends to <root>/ablate.jsonl. "calibrated" as for explain.
    //   ablate <cacheDir> [attacks=badnets,blended,badclip] [variants=paper,normalized,last,margin0,margin0.5] [images=500] [calibrated]
    public static void Ablate(string[] args, string root)
    {
        var cacheDir = args[0];
        var attacks = (args.Length > 1 ? args[1] : "badnets,blended,badclip").Split(',')
            .Select(a => Enum.Parse<SyntheticAttack>(a, ignoreCase: true)).ToArray();
        var variants = (args.Length > 2 ? args[2] : "paper,normalized,last,margin0,margin0.5").Split(',');
        int images = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 500;
        bool calibrated = args.Length > 4 && args[4] == "calibrated";
        var world = calibrated ? World.Calibrated : World.Demo;

        using var setting = new Setting(cacheDir, world, images);
        Console.WriteLine($"{setting.NonTarget.Length} non-target test images; {(calibrated ? "the calibrated world" : "the demo's world")}");
        foreach (var attack in attacks)
        {
            using var planted = setting.Plant(attack);
            foreach (var variant in variants)
            {
                var paper = new RepulsiveLoss(2);
                var loss = variant switch
                {
                    "paper" => paper,
                    "normalized" => paper.OnFeature(RepelledFeature.NormalizedClassToken),
                    "last" => paper.OnBlocks(RepelledBlocks.Last),
                    _ when variant.StartsWith("margin", StringComparison.Ordinal) => paper.WithMargin(double.Parse(variant["margin".Length..], CultureInfo.InvariantCulture)),
                    _ => throw new ArgumentException($"unknown variant {variant}"),
                };
                var (best, lr, fr) = TrainBestOnValidation(planted.Model, loss, setting.Shots, setting.Test.ClassNames, setting.Validation, world);
                using (best)
                {
                    double ca = PromptedAccuracy.Evaluate(best, setting.Test);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{attack,-8} {variant,-11} lr {lr} FR {fr:F3} CA {ca:F2}"));
                    File.AppendAllText(Path.Combine(root, "ablate.jsonl"), JsonSerializer.Serialize(new { attack = attack.ToString(), variant, lr, fr, ca }) + "\n");
                    Report(attack, "RVPT " + variant, planted.Model, best, planted.Trigger, setting.Test, setting.NonTarget, setting.Lab.TargetClassIndex, root);
                }
            }
        }
    }

    // What explain and ablate share: the world's clean model (from the cache), its test and validation sets, seed 1's
    // shots and the non-target test images the trigger's shift is measured on.
    private sealed class Setting : IDisposable
    {
        private readonly SyntheticModelStore _store;
        private readonly World _world;
        private readonly TensorDataset _pool;

        public Setting(string cacheDir, World world, int images)
        {
            (_store, _world) = (new SyntheticModelStore(cacheDir), world);
            Lab = new SyntheticBackdoorLab(_store, world.Lab);
            Clean = Lab.GetCleanModel();
            Test = Lab.TestSet(1200);
            Validation = Lab.ValidationSet(600);
            _pool = Lab.DefenderPool(DefenderPool.Images(world.Shots, Lab.DefendedClasses.Count));
            Shots = FewShotSampler.Sample(_pool, world.Shots, 1);
            NonTarget = Enumerable.Range(0, Test.Count).Where(i => Test.GetLabel(i) != Lab.TargetClassIndex).Take(images).ToArray();
        }

        public SyntheticBackdoorLab Lab { get; }
        public ClipModel Clean { get; }
        public TensorDataset Test { get; }
        public TensorDataset Validation { get; }
        public SubsetSource Shots { get; }
        public int[] NonTarget { get; }

        // The attack's planted model, with its own poison fraction in this world.
        public PlantedModel Plant(SyntheticAttack attack) => new SyntheticBackdoorLab(_store, _world.LabFor(attack)).GetPlantedModel(attack, Clean);

        public void Dispose()
        {
            _pool.Dispose();
            Validation.Dispose();
            Test.Dispose();
            Clean.Dispose();
        }
    }

    // The two worlds explain runs in: the demo's first (now --small-world: 16 shots, 50 epochs, the scaled prompt
    // geometry) and the calibrated one (the demo's default and --calibrated).
    private sealed record World(SyntheticLabOptions Lab, IReadOnlyDictionary<SyntheticAttack, double> PoisonFractions, int Shots, int Epochs, DeepPromptOptions? Prompts)
    {
        public static World Demo { get; } = new(new SyntheticLabOptions(), new Dictionary<SyntheticAttack, double>(), 16, 50, null);

        // The demo's --calibrated preset (LabDemoSettings.Calibrated) with the defender's settings explain uses.
        public static World Calibrated { get; } = new(
            SyntheticLabOptions.Calibrated,
            new Dictionary<SyntheticAttack, double> { [SyntheticAttack.BadClip] = 0.05 }, 256, 8, new DeepPromptOptions { UnpromptedDepth = 3, Tokens = 4 });

        public SyntheticLabOptions LabFor(SyntheticAttack attack) =>
            PoisonFractions.TryGetValue(attack, out var f) ? Lab with { Planting = Lab.Planting with { PoisonFraction = f } } : Lab;
    }

    // Trains prompts at 0.002, 0.02 and 0.2 and keeps the one with the best clean validation accuracy (with its rate and
    // its last epoch's repelling cosine).
    private static (DeepPromptInjector Best, double Lr, double Fr) TrainBestOnValidation(ClipModel model, RepulsiveLoss loss,
        ILabeledImageSource shots, IReadOnlyList<string> classNames, ILabeledImageSource validation, World world)
    {
        DeepPromptInjector? best = null; double bestVal = -1, bestLr = 0, bestFr = double.NaN;
        foreach (var lr in new[] { 0.002, 0.02, 0.2 })
        {
            var prompts = DeepPromptInjector.For(model).WithOptions((world.Prompts ?? DeepPromptOptions.ScaledTo(model.Config.Vision)) with { Seed = 1 }).Build();
            var fr = FewShotTrainer.For(model, prompts).WithLoss(loss)
                .WithClasses(classNames, PromptTemplates.APhotoOfA)
                .WithOptions(new TrainingOptions { Epochs = world.Epochs, LearningRate = lr, Seed = 1, Augment = false, CacheFrozenClassTokens = true })
                .Build().Fit(shots).FinalRepelling;
            double v = PromptedAccuracy.Evaluate(prompts, validation);
            if (v > bestVal) { best?.Dispose(); best = prompts; bestVal = v; bestLr = lr; bestFr = fr; } else prompts.Dispose();
        }
        return (best!, bestLr, bestFr);
    }

    private static void Report(SyntheticAttack attack, string model, ClipModel clip, DeepPromptInjector? prompts, ITrigger trigger,
        TensorDataset test, int[] indices, int target, string root)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var texts = clip.EncodeTextNormalized(test.ClassNames.Select(c => PromptTemplates.APhotoOfA[0].Replace("{}", c, StringComparison.Ordinal)).ToList());
        Tensor Encode(Tensor pixels01)
        {
            var pixels = clip.ImageProcessor.Normalize(pixels01);
            var f = prompts is null ? clip.EncodeImage(pixels) : prompts.EncodeImage(pixels);
            return nn.functional.normalize(f, 2.0, 1);
        }
        var cleanPixels01 = stack(indices.Select(i => test.LoadPixels01(i)).ToArray());
        var triggeredPixels01 = cat(indices.Select((i, k) => trigger.Apply(cleanPixels01.narrow(0, k, 1), unchecked(i * 1_000_003L + 7))).ToArray(), 0);
        var f0 = Encode(cleanPixels01);
        var f1 = Encode(triggeredPixels01);
        var d = f1 - f0;                                           // [N, e]
        var tStar = texts[target];                                 // [e]
        var others = cat(new[] { texts.narrow(0, 0, target), texts.narrow(0, target + 1, texts.shape[0] - target - 1) }, 0);
        others = others - outer(others.matmul(tStar), tStar);      // orthogonal to the target direction
        var (_, _, basis) = linalg.svd(others, fullMatrices: false); // rows span the other classes' (orthogonalised) directions
        var along = d.matmul(tStar);                               // [N]
        var inSpan = d.matmul(basis.t());                          // [N, C-1]
        var total = d.pow(2).sum(1).clamp_min(1e-12);
        double targetShare = (along.pow(2) / total).mean().item<float>();
        double classShare = (inSpan.pow(2).sum(1) / total).mean().item<float>();
        double norm = d.norm(1).mean().item<float>();
        double gain = (f1.matmul(tStar) - f0.matmul(tStar)).mean().item<float>();
        var logits1 = f1.matmul(texts.t());
        double asr = logits1.argmax(1).eq(target).to_type(ScalarType.Float32).mean().item<float>();
        var line = new { attack = attack.ToString(), model, images = indices.Length, asr = 100 * asr, shift = norm, targetCosGain = gain,
            targetShare, otherClassesShare = classShare, restShare = 1 - targetShare - classShare };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{attack,-8} {model,-18} ASR {100 * asr,6:F2}  |d| {norm:F3}  cos to target +{gain:F3}  along target {100 * targetShare:F1}%  other classes {100 * classShare:F1}%  rest {100 * (1 - targetShare - classShare):F1}%"));
        Directory.CreateDirectory(root);
        File.AppendAllText(Path.Combine(root, "explain.jsonl"), JsonSerializer.Serialize(line) + "\n");
    }
}
