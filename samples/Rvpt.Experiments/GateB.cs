// Gates A and B for issue 12: lighter plantings of the demo's lab (its world, clean model and pinned triggers), each
// followed by the baselines gate B names (CleanCLIP on BadNets and Blended, full fine-tuning with CE on BadCLIP),
// the linear probe (reported, not gated) and optionally VPT. RVPT runs only when named in defences, once a world is
// fixed by the gates: no planting or world is chosen by its ASR.
// Arguments are key=value (see Defaults); every attack appends one JSON line to artifacts/experiments/gateb.jsonl.
// The suite's settings are those of the demo's small-world preset (LabDemoSettings.SmallWorld in src/Rvpt.Cli/Lab),
// the demo's default when this program ran.
using System.Diagnostics;
using System.Text.Json;
using Rvpt;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Clip;

internal static class GateB
{
    private static readonly Dictionary<string, string> Defaults = new()
    {
        // store: the demo's model store (its clean model is reused; planted models are cached by their options).
        ["store"] = "", ["attacks"] = "badclip,badnets,blended",
        ["frac"] = "0.1", ["ep"] = "2", ["lr"] = "5e-4", ["lw"] = "1", ["pairs"] = "12000", ["warm"] = "20", ["pseed"] = "1",
        ["defences"] = "None,LinearProbe,CleanClip,FullFineTuning", ["seed"] = "1", ["shots"] = "16",
        // CleanCLIP's budget (the demo's: 2,000 pairs, 2 epochs, lr 1e-5 or 1e-4 chosen on clean validation).
        ["ccpairs"] = "2000", ["ccep"] = "2", ["cclrs"] = "1e-5,1e-4",
        // dnoise, dsizes, d2nd, dscale, dcontrast: the defended task's departures from the pre-training world, for headroom
        // (DefendedTask.cs; the same seeds as the lab's sets).
        ["dnoise"] = "", ["dsizes"] = "", ["d2nd"] = "", ["dscale"] = "", ["dcontrast"] = "",
        // Full fine-tuning's optimiser (sgd, the prompts' recipe, or adamw, the usual one for fine-tuning CLIP), its
        // learning-rate grid (chosen on clean validation) and weight decay.
        ["ftopt"] = "sgd", ["ftlrs"] = "1e-4,1e-3,1e-2", ["ftwd"] = "5e-4",
        // The clean model's vision tower (width, blocks; heads of width 32); other than 128 x 4 it is pre-trained with the
        // lab's recipe in the given store on first use.
        ["w"] = "128", ["L"] = "4",
        // gbdecay=1: weight decay on every parameter when pre-training, planting and cleaning, as every run before the
        // library followed CleanCLIP's rule (its default now); gbdecay=0: CleanCLIP's and OpenCLIP's rule.
        ["gbdecay"] = "1",
        // ls: set the clean model's logit scale exp(logit_scale) to this value before planting (e.g. 100, OpenAI CLIP's);
        // planted models are cached without it, so give such runs a store of their own.
        ["ls"] = "",
        // The prompts' geometry for VPT and RVPT (unprompted depth D, tokens per block b); "" is the suite's scaled default.
        ["D"] = "", ["b"] = "",
        // pnoise: the pre-training world's noise range, [0.02, pnoise] per image (SyntheticWorldOptions.NoiseStdMax);
        // "" is the fixed 0.02. The clean model is then pre-trained in the given store on first use.
        ["pnoise"] = "",
        // bn: the BadNets trigger. "" the lab's pinned one (checkerboard, side 28 at 224, bottom-right corner);
        // "random": that checkerboard at a random position per image as CleanCLIP's code draws it; "noise": CleanCLIP's
        // per-image mean + N(0, 1) patch (side 28) at the corner; "authors": that patch at CleanCLIP's random position.
        ["bn"] = "",
        // bcsteps: Adam steps of the BadCLIP patch optimisation; "" the lab's 200. BadCLIP's README runs 50 epochs over its
        // images at batch 64: 940 steps over the lab's 1,200 attacker images.
        ["bcsteps"] = "",
        // ccview: CleanCLIP's augmented image view; "" its default (AutoAugment, as CleanCLIP's code), "crop" the random
        // resized crop + flip every CleanCLIP run before commit 6e960b5 used.
        ["ccview"] = "",
        // pep: the clean model's pre-training epochs over its pairs; "" the lab's 5. The clean model is then pre-trained
        // in the given store on first use.
        ["pep"] = "",
        // dep: the epochs of the defences trained on the shots (VPT, RVPT and full fine-tuning); "" the suite's 50. With
        // more shots, fewer epochs keep the number of optimiser steps (e.g. 256 shots, 4 epochs: 3 x 96 steps at the
        // learning rate after the warm-up epoch, as 16 shots' 49 x 6 = 294).
        ["dep"] = "",
    };

    public static void Run(string[] args, string root)
    {
        var a = KeyValueArgs.Parse(args, Defaults);
        int I(string k) => a.Int(k);
        double D(string k) => a.Double(k);
        var sw = Stopwatch.StartNew();

        var demo = new SyntheticLabOptions();
        bool decayAll = a["gbdecay"] == "1";
        var options = demo with
        {
            Pretraining = demo.Pretraining with { DecayGainsAndBiases = decayAll, Epochs = a["pep"] == "" ? demo.Pretraining.Epochs : I("pep") },
            World = a["pnoise"] == "" ? demo.World : demo.World with { NoiseStdMax = D("pnoise") },
            BadNets = a["bn"] switch
            {
                "" => demo.BadNets,
                "random" => demo.BadNets with { Position = PatchPosition.RandomAsCleanClip() },
                "noise" => demo.BadNets with { Pattern = PatchPattern.ImageMeanNoise() },
                "authors" => demo.BadNets with { Pattern = PatchPattern.ImageMeanNoise(), Position = PatchPosition.RandomAsCleanClip() },
                var other => throw new ArgumentException($"bn must be '', random, noise or authors; got '{other}'."),
            },
            BadClip = a["bcsteps"] == "" ? demo.BadClip : demo.BadClip with { Steps = I("bcsteps") },
            Model = demo.Model with { VisionWidth = I("w"), VisionLayers = I("L"), VisionHeads = I("w") / 32 },
            Planting = demo.Planting with
            {
                Pairs = I("pairs"), PoisonFraction = D("frac"), Seed = I("pseed"),
                Training = demo.Planting.Training with { LearningRate = D("lr"), Epochs = I("ep"), ClassPromptWeight = D("lw"), WarmupSteps = I("warm"), DecayGainsAndBiases = decayAll },
            },
        };
        var storeRoot = a["store"] != "" ? a["store"] : Path.Combine(root, "lab-store");
        var lab = new SyntheticBackdoorLab(new SyntheticModelStore(storeRoot), options);
        var progress = new Progress<SyntheticLabProgress>(p => { if (p.Step % 500 == 0) Console.WriteLine($"  {p.Phase} step {p.Step}/{p.TotalSteps} ({sw.Elapsed.TotalSeconds:F0} s)"); });
        using var clean = lab.GetCleanModel(null, progress);
        LogitScaleKey.Apply(clean, a);
        var shiftedOptions = DefendedTask.Apply(lab.World.Options, a);
        var shifted = shiftedOptions is null ? null : new SyntheticWorld(shiftedOptions);
        TensorDataset Defended(SyntheticSplit split, int count) =>
            shifted is null ? split switch { SyntheticSplit.Test => lab.TestSet(count), SyntheticSplit.Validation => lab.ValidationSet(count), _ => lab.DefenderPool(count) }
                : shifted.ToLabeledDataset(SyntheticWorld.SplitSeed(2, split), count);
        using var test = Defended(SyntheticSplit.Test, 1_200);
        using var validation = Defended(SyntheticSplit.Validation, 600);
        using var pool = Defended(SyntheticSplit.Train, DefenderPool.Images(I("shots"), test.ClassNames.Count));
        using var pairs = lab.DefenderPairs(I("ccpairs"));
        int defenceEpochs = a["dep"] == "" ? new TrainingOptions().Epochs : I("dep");
        var suiteOptions = new DefenceSuiteOptions
        {
            Defences = a["defences"].Split(',').Select(Enum.Parse<DefenceKind>).ToArray(),
            Seeds = [I("seed")],
            Shots = I("shots"),
            PromptTraining = new TrainingOptions { Augment = false, Epochs = defenceEpochs },
            Prompts = a["D"] == "" ? null : new DeepPromptOptions { UnpromptedDepth = I("D"), Tokens = I("b") },
            CleanClip = new CleanClipOptions
            {
                FineTuning = new ContrastiveFineTuningOptions { LearningRate = 1e-5, Epochs = I("ccep"), BatchSize = 64, DecayGainsAndBiases = decayAll },
                AugmentedImageView = a["ccview"] switch
                {
                    "" => CleanClipImageView.AutoAugment,
                    "crop" => CleanClipImageView.RandomResizedCropFlip,
                    var other => throw new ArgumentException($"ccview must be '' or crop; got '{other}'."),
                },
            },
            CleanClipLearningRates = a.Doubles("cclrs"),
            FineTuning = new FullFineTuningOptions
            {
                Training = new TrainingOptions
                {
                    LearningRate = 1e-3, Augment = false, WeightDecay = D("ftwd"), Epochs = defenceEpochs,
                    Optimizer = a["ftopt"] == "adamw" ? PromptOptimizer.AdamW : PromptOptimizer.Sgd,
                },
            },
            FineTuningLearningRates = a.Doubles("ftlrs"),
        };
        var suite = new DefenceSuite(suiteOptions);
        var evaluator = new BackdoorEvaluator(clean.ImageProcessor, suiteOptions.EvaluationBatchSize);
        var recipe = $"frac {a["frac"]} ep {a["ep"]} lr {a["lr"]} lw {a["lw"]} pairs {a["pairs"]} warm {a["warm"]} pseed {a["pseed"]}; cleanclip {a["ccpairs"]} pairs x {a["ccep"]} ep, lrs {a["cclrs"]}; dnoise {a["dnoise"]} dsizes {a["dsizes"]} d2nd {a["d2nd"]} dscale {a["dscale"]} dcontrast {a["dcontrast"]}; shots {a["shots"]}; ft {a["ftopt"]} lrs {a["ftlrs"]} wd {a["ftwd"]}; vision {a["w"]} x {a["L"]}; gbdecay {a["gbdecay"]} ls {a["ls"]}; D:b {a["D"]}:{a["b"]}; pnoise {a["pnoise"]}; bn {a["bn"]}; bcsteps {a["bcsteps"]}; ccview {a["ccview"]}; pep {a["pep"]}; dep {a["dep"]}";
        foreach (var attack in a["attacks"].Split(',').Select(s => Enum.Parse<SyntheticAttack>(s, true)))
        {
            var t0 = sw.Elapsed.TotalSeconds;
            using var planted = lab.GetPlantedModel(attack, clean);
            var plantSeconds = sw.Elapsed.TotalSeconds - t0;
            BackdoorMetrics cleanMetrics;
            double cleanShare, plantedShare;
            using (var classifier = ZeroShotImageClassifier.Create(clean, test.ClassNames, suiteOptions.Templates))
            {
                cleanMetrics = evaluator.Evaluate(classifier, test, planted.Trigger, lab.TargetClassIndex);
                cleanShare = TargetShare.Compute(evaluator, classifier, test, lab.TargetClassIndex);
            }
            using (var classifier = ZeroShotImageClassifier.Create(planted.Model, test.ClassNames, suiteOptions.Templates))
            {
                plantedShare = TargetShare.Compute(evaluator, classifier, test, lab.TargetClassIndex);
                // Per-class clean accuracy of the planted model beside the clean model's: where the planting's cost falls.
                var perClass = evaluator.Evaluate(classifier, test, null, lab.TargetClassIndex).CleanAccuracyPerClass; // clean images only
                Console.WriteLine("per-class CA, clean -> planted: " + string.Join(", ", test.ClassNames.Select((n, i) =>
                    FormattableString.Invariant($"{n} {100 * cleanMetrics.CleanAccuracyPerClass[i]:F0}->{100 * perClass[i]:F0}"))));
            }
            Console.WriteLine($"{attack}: clean non-target images called the target: clean model {cleanShare:F2}%, planted {plantedShare:F2}%");
            var result = suite.Run(new DefenceSuiteRequest(planted.Model, pool, validation, test)
            {
                Attack = planted.Trigger.Name, Trigger = planted.Trigger, TargetClass = lab.TargetClassIndex, CleanPairs = pairs,
            });
            var cells = result.Runs.Select(r => new
            {
                defence = r.Defence.ToString(), asr = 100 * r.Metrics.AttackSuccessRate, ca = 100 * r.Metrics.CleanAccuracy,
                seconds = r.Elapsed.TotalSeconds,
                selection = r.Selection.Select(t => new { t.Candidate, val = 100 * t.ValidationAccuracy, t.Chosen }).ToArray(),
            }).ToArray();
            Console.WriteLine($"{attack} [{recipe}] clean {cleanMetrics.ToCell()} planted in {plantSeconds:F0}s; "
                + string.Join("; ", result.Runs.Select(r => $"{r.Defence} {r.Metrics.ToCell()} ({string.Join(" ", r.Selection.Select(t => $"{t.Candidate}:{100 * t.ValidationAccuracy:F1}{(t.Chosen ? "*" : "")}"))})"))
                + $"  t {sw.Elapsed.TotalSeconds:F0}s");
            Directory.CreateDirectory(root);
            File.AppendAllText(Path.Combine(root, "gateb.jsonl"), JsonSerializer.Serialize(new
            {
                attack = attack.ToString(), args = a, cleanShare, plantedShare, cleanAsr = 100 * cleanMetrics.AttackSuccessRate, cleanCa = 100 * cleanMetrics.CleanAccuracy,
                plantSeconds, cells,
            }) + "\n");
        }
    }
}
