// The throw-away experiments behind docs/results.md, kept as they ran so every number there has a command.
// Not an example of style: see samples/Rvpt.Demo for that. Stores default to artifacts/experiments/.
//
//   pretrain <pairs> <epochs> <lr> <labelWeight> <batch> <patch> <visionWidth> <visionLayers>
//   plant-caption <pretrainEpochs> <pretrainPairs> <plantPairs> <poisonFraction> <plantEpochs> <plantLr> <attack> [wanetStrength]
//   plant <attack> <poisonFraction> <epochs> <lr> <pairs> <labelWeight> [fixed|no] [wanetStrength]
//   defend <attack> <poisonFraction> <epochs> <lr> <pairs> [defences] [promptLrs] [alpha] [D] [b]     (NOAUG=1: no augmentation)
//   explain <cacheDir> [attacks] [images]   (Explain.cs: where a trigger moves the final image feature)
//   ablate <cacheDir> [attacks] [variants] [images]   (Explain.cs: the repelling term's ablations, issue 12 item 4)
//   gateb <key=value ...>   (GateB.cs: lighter plantings of the demo's lab and the baselines gate B names)
//   displacement <store> [attack] [lrs] [seed] [width layers] [shots] [sgd|adamw]   (Displacement.cs: how far full fine-tuning moves the planted encoder, against the planting)
//   issba <imageSize> <steps> <trainImages> [residualWeight (default the lab's 60)] [width]   (ISSBA's StegaStamp model on the synthetic world, resized)
using System.Diagnostics;
using Rvpt;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

torch.set_num_threads(2);
var root = Environment.GetEnvironmentVariable("RVPT_EXPERIMENTS") ?? Path.GetFullPath(Path.Combine("artifacts", "experiments"));
var rest = args.Skip(1).ToArray();
switch (args.FirstOrDefault())
{
    case "pretrain": Pretrain(rest, root); break;
    case "plant-caption": PlantCaption(rest, root); break;
    case "plant": Plant(rest, root); break;
    case "defend": Defend(rest, root); break;
    case "calib": Calibration.Run(rest, root); break;
    case "shapes": ShapeSheet.Write(rest[0]); break;
    case "issba": Issba(rest, root); break;
    case "explain": Explain.Run(rest, root); break;
    case "ablate": Explain.Ablate(rest, root); break;
    case "gateb": GateB.Run(rest, root); break;
    case "displacement": Displacement.Run(rest); break;
    default: Console.Error.WriteLine("usage: pretrain | plant-caption | plant | defend | calib | shapes | issba | explain | ablate | gateb | displacement (see the comment at the top of Program.cs)"); return 2;
}
return 0;

// Pre-training from scratch with (labelWeight 1) or without (0) the label-text term; zero-shot accuracy per epoch.
static void Pretrain(string[] args, string root)
{
    int N = int.Parse(args[0]); int epochs = int.Parse(args[1]); double lr = double.Parse(args[2]); double labelW = double.Parse(args[3]);
    int batch = int.Parse(args[4]); int patch = int.Parse(args[5]); int vw = int.Parse(args[6]); int vl = int.Parse(args[7]);
    torch.manual_seed(0);
    var world = new SyntheticWorld();
    var dir = Path.Combine(root, "tok"); Directory.CreateDirectory(dir);
    var tok = ClipVocabularyGenerator.WriteTo(dir, world.Vocabulary.Concat(new[] { "a", "photo", "of" }).Distinct());
    var cfg = new ClipConfig
    {
        EmbedDim = 64,
        Vision = new ClipVisionConfig { ImageSize = 32, PatchSize = patch, Width = vw, Layers = vl, Heads = vw / 32 },
        Text = new ClipTextConfig { ContextLength = 24, VocabSize = tok.VocabularySize, Width = 128, Layers = 2, Heads = 4 },
    };
    var clip = new ClipModelBuilder().WithConfig(cfg).WithRandomWeights(1).WithTokenizer(tok).Build();
    Console.WriteLine($"params {cfg.ParameterCount}");
    var sw = Stopwatch.StartNew();
    long trainSeed = SyntheticWorld.SplitSeed(0, SyntheticSplit.Train), testSeed = SyntheticWorld.SplitSeed(0, SyntheticSplit.Test);
    var imgs = clip.ImageProcessor.Normalize(world.RenderBatch(trainSeed, 0, N));
    var descr = Enumerable.Range(0, N).Select(i => world.Describe(trainSeed, i)).ToArray();
    var capIds = tok.EncodeBatch(descr.Select(d => d.Caption).ToList(), 24);
    var labels = tensor(descr.Select(d => (long)d.ClassIndex).ToArray());
    var classIds = tok.EncodeBatch(world.ClassNames.Select(c => $"a photo of a {c}.").ToList(), 24);
    var testImgs = clip.ImageProcessor.Normalize(world.RenderBatch(testSeed, 0, 1200));
    var testLabels = tensor(Enumerable.Range(0, 1200).Select(i => (long)world.Describe(testSeed, i).ClassIndex).ToArray());
    Console.WriteLine($"render {sw.Elapsed.TotalSeconds:F1}s");
    var opt = optim.AdamW(clip.parameters(), lr, 0.9, 0.98, 1e-6, 0.1);
    int steps = epochs * (N / batch), step = 0, warm = Math.Min(200, steps / 10);
    double Eval()
    {
        using var _ = NewDisposeScope(); using var ng = no_grad(); clip.eval();
        var t = ClipModel.Normalize(clip.EncodeText(classIds)); long correct = 0;
        for (int s = 0; s < 1200; s += 200)
        {
            var f = ClipModel.Normalize(clip.EncodeImage(testImgs[TensorIndex.Slice(s, s + 200)]));
            correct += (f.matmul(t.t()).argmax(1) == testLabels[TensorIndex.Slice(s, s + 200)]).sum().item<long>();
        }
        clip.train(); return correct / 12.0;
    }
    Console.WriteLine($"epoch 0 zs {Eval():F1}%");
    clip.train();
    for (int e = 0; e < epochs; e++)
    {
        var perm = randperm(N, generator: new Generator((ulong)(e + 1)));
        double sum = 0; int nb = 0;
        for (int s = 0; s + batch <= N; s += batch)
        {
            using var scope = NewDisposeScope();
            double cur = step < warm ? lr * (step + 1) / warm : 0.5 * lr * (1 + Math.Cos(Math.PI * (step - warm) / (steps - warm)));
            foreach (var g in opt.ParamGroups) g.LearningRate = cur;
            var idx = perm[TensorIndex.Slice(s, s + batch)];
            var im = ClipModel.Normalize(clip.EncodeImage(imgs.index_select(0, idx)));
            var tx = ClipModel.Normalize(clip.EncodeText(capIds.index_select(0, idx)));
            var sc = clip.LogitScale.exp();
            var lg = sc * im.matmul(tx.t()); var tg = arange(batch, dtype: ScalarType.Int64);
            var loss = (nn.functional.cross_entropy(lg, tg) + nn.functional.cross_entropy(lg.t(), tg)) / 2;
            if (labelW > 0)
            {
                var ct = ClipModel.Normalize(clip.EncodeText(classIds));
                loss = loss + labelW * nn.functional.cross_entropy(sc * im.matmul(ct.t()), labels.index_select(0, idx));
            }
            opt.zero_grad(); loss.backward(); opt.step();
            using (no_grad()) clip.LogitScale.clamp_(0, 4.6052);
            sum += loss.item<float>(); nb++; step++;
        }
        Console.WriteLine($"epoch {e + 1} loss {sum / nb:F3} zs {Eval():F1}% t {sw.Elapsed.TotalSeconds:F0}s");
    }
}

// Planting with CLIP's caption-only contrastive loss (ContrastiveFineTuner), evaluated on the test split of base seed 0.
static void PlantCaption(string[] args, string root)
{
    int pe = int.Parse(args[0]), pp = int.Parse(args[1]), plantPairs = int.Parse(args[2]); double frac = double.Parse(args[3]);
    int plantEpochs = int.Parse(args[4]); double plantLr = double.Parse(args[5]); string attack = args[6]; double ws = args.Length > 7 ? double.Parse(args[7]) : 1.0;
    var sw = Stopwatch.StartNew();
    var world = new SyntheticWorld();
    var store = new SyntheticModelStore(Path.Combine(root, "caption-store"));
    var popt = new SyntheticPretrainingOptions { Epochs = pe, Pairs = pp };
    var settings = System.Text.Json.JsonSerializer.Serialize(popt);
    var clean = store.GetOrBuild("clean", settings, dir =>
    {
        var m = SyntheticClip.CreateRandom(world, dir, popt.Seed);
        new SyntheticClipPretrainer(world, popt).Train(m);
        return m;
    });
    Console.WriteLine($"clean ready t {sw.Elapsed.TotalSeconds:F0}s");
    var test = world.ToLabeledDataset(SyntheticWorld.SplitSeed(0, SyntheticSplit.Test), 1200);
    var eval = new BackdoorEvaluator(clean.ImageProcessor, 200);
    int target = world.ClassNames.ToList().IndexOf("star");
    BackdoorMetrics Eval(ClipModel m, ITrigger t) { using var c = ZeroShotImageClassifier.Create(m, world.ClassNames, PromptTemplates.APhotoOfA); return eval.Evaluate(c, test, t, target); }
    ITrigger trig = attack switch
    {
        "badnets" => new BadNetsTrigger(new BadNetsOptions { PatchSize = 28 }),
        "badnets8" => new BadNetsTrigger(new BadNetsOptions { PatchSize = 56 }),
        "badnetsfixed" => new BadNetsTrigger(new BadNetsOptions { PatchSize = 56, Position = PatchPosition.At(0, 0) }),
        "badnets4fixed" => new BadNetsTrigger(new BadNetsOptions { PatchSize = 28, Position = PatchPosition.At(0, 0) }),
        "blended" => new BlendedTrigger(new BlendedOptions { Alpha = 0.2 }),
        "wanet" => new WaNetTrigger(new WaNetOptions { Strength = ws }),
        "badclip" => BadClipPatch.Optimize(clean, world.ToLabeledDataset(SyntheticWorld.SplitSeed(7, SyntheticSplit.Train), 1200), "star", new BadClipOptions { PatchSize = 28, Steps = 200 }),
        _ => throw new ArgumentException($"unknown attack {attack}"),
    };
    Console.WriteLine($"clean model: {Eval(clean, trig).ToCell()} t {sw.Elapsed.TotalSeconds:F0}s");
    using var pairs = world.ToCaptionDataset(SyntheticWorld.SplitSeed(1, SyntheticSplit.Train), plantPairs);
    var poisoned = new PoisonedCaptionDataset(pairs, trig, "star", (int)(frac * plantPairs), clean.ImageProcessor, new[] { "a photo of a {}.", "a {}." }, 1);
    var planted = ClipModel.FromPretrained(store.EntryPath("clean", settings));
    new ContrastiveFineTuner(planted, new ContrastiveFineTuningOptions { LearningRate = plantLr, Epochs = plantEpochs, BatchSize = 64, WarmupSteps = 20 }).Fit(poisoned);
    Console.WriteLine($"planted {attack}: {Eval(planted, trig).ToCell()} t {sw.Elapsed.TotalSeconds:F0}s");
}

static SyntheticBackdoorLab Lab(string[] args, string root, int first)
{
    double frac = double.Parse(args[first]); int ep = int.Parse(args[first + 1]); double lr = double.Parse(args[first + 2]); int pairs = int.Parse(args[first + 3]);
    double w = args.Length > first + 4 && args[first + 4] is var ws && double.TryParse(ws, out var wv) ? wv : 1;
    var opts = new SyntheticLabOptions
    {
        Planting = new BackdoorPlantingOptions
        {
            Pairs = pairs, PoisonFraction = frac,
            Training = new SyntheticPretrainingOptions { LearningRate = lr, Epochs = ep, BatchSize = 64, WarmupSteps = 20, ClassPromptWeight = w },
        },
        BadNets = new BadNetsOptions { PatchSize = 28 },  // random position, as the exploration ran
    };
    return new SyntheticBackdoorLab(new SyntheticModelStore(Path.Combine(root, "lab-store")), opts);
}

// Planting with the lab (the clean model's own objective when labelWeight = 1), on the defender's test split.
static void Plant(string[] args, string root)
{
    var attack = Enum.Parse<SyntheticAttack>(args[0], true);
    bool fixedPos = args.Length > 6 && args[6] == "fixed";
    var sw = Stopwatch.StartNew();
    var lab = Lab(args, root, 1);
    var opts = lab.Options;
    if (args.Length > 7) opts = opts with { WaNet = opts.WaNet with { Strength = double.Parse(args[7]) } };
    if (fixedPos) opts = opts with { BadNets = opts.BadNets with { Position = PatchPosition.Named(PatchPositionKind.BottomRight) } };
    lab = new SyntheticBackdoorLab(lab.Store, opts);
    using var clean = lab.GetCleanModel();
    using var test = lab.TestSet(1200);
    var eval = new BackdoorEvaluator(clean.ImageProcessor, 200);
    using var planted = lab.GetPlantedModel(attack, clean);
    BackdoorMetrics E(ClipModel m) { using var c = ZeroShotImageClassifier.Create(m, lab.World.ClassNames, PromptTemplates.APhotoOfA); return eval.Evaluate(c, test, planted.Trigger, lab.TargetClassIndex); }
    Console.WriteLine($"{attack} frac {args[1]} ep {args[2]} lr {args[3]} pairs {args[4]} w {args[5]} fixed {fixedPos} wanet {opts.WaNet.Strength}: clean {E(clean).ToCell()} planted {E(planted.Model).ToCell()} t {sw.Elapsed.TotalSeconds:F0}s");
}

// One seed of the defences against a planted model (random-position BadNets as explored), with ablation knobs.
static void Defend(string[] args, string root)
{
    var attack = Enum.Parse<SyntheticAttack>(args[0], true);
    var defences = (args.Length > 5 ? args[5] : "None,PlainVpt,LinearProbe,CleanClip,Rvpt").Split(',').Select(Enum.Parse<DefenceKind>).ToArray();
    var plrs = (args.Length > 6 ? args[6] : "0.002,0.02,0.2").Split(',').Select(double.Parse).ToArray();
    double alpha = args.Length > 7 ? double.Parse(args[7]) : 2.0;
    var sw = Stopwatch.StartNew();
    var lab = Lab(args.Take(5).ToArray(), root, 1);
    using var clean = lab.GetCleanModel();
    using var planted = lab.GetPlantedModel(attack, clean);
    using var test = lab.TestSet(1200); using var val = lab.ValidationSet(600); using var pool = lab.DefenderPool(768); using var cp = lab.DefenderPairs(3000);
    Console.WriteLine($"loaded t {sw.Elapsed.TotalSeconds:F0}s");
    var so = new DefenceSuiteOptions { Defences = defences, PromptLearningRates = plrs, Alpha = alpha };
    if (args.Length > 9) so = so with { Prompts = new DeepPromptOptions { UnpromptedDepth = int.Parse(args[8]), Tokens = int.Parse(args[9]) } };
    if (Environment.GetEnvironmentVariable("NOAUG") == "1") so = so with { PromptTraining = so.PromptTraining with { Augment = false } };
    using (var pr = DeepPromptInjector.For(planted.Model).WithOptions(so.Prompts ?? DeepPromptOptions.ScaledTo(planted.Model.Config.Vision)).Build())
        Console.WriteLine($"prompted CA at init on val: {PromptedAccuracy.Evaluate(pr, val):P1}");
    var r = new DefenceSuite(so).Run(planted.Model, planted.Trigger.Name, planted.Trigger, lab.TargetClassIndex, pool, val, test, cp);
    foreach (var run in r.Runs)
        Console.WriteLine($"{run.Defence,-12} {run.Metrics.ToCell(),-16} {run.Elapsed.TotalSeconds,6:F1}s  {string.Join(" ", run.Selection.Select(t => $"{t.Candidate}:{100 * t.ValidationAccuracy:F1}{(t.Chosen ? "*" : "")}"))}");
    Console.WriteLine($"total t {sw.Elapsed.TotalSeconds:F0}s");
}

// ISSBA: trains the StegaStamp-style encoder/decoder on synthetic images (resized to imageSize) and reports PSNR,
// bit accuracy and time; the model is saved under <root>/issba-<size>.safetensors.
static void Issba(string[] args, string root)
{
    int size = int.Parse(args[0]); int steps = int.Parse(args[1]); int count = int.Parse(args[2]);
    double weight = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : new IssbaLabOptions().Training.ResidualWeight;
    int width = args.Length > 4 ? int.Parse(args[4]) : size == 224 ? 32 : 16;
    var world = new SyntheticWorld();
    using var train = world.ToLabeledDataset(SyntheticWorld.SplitSeed(5, SyntheticSplit.Train), count);
    using var validation = world.ToLabeledDataset(SyntheticWorld.SplitSeed(5, SyntheticSplit.Validation), 256);
    var modelOptions = size == 224 ? IssbaModelOptions.At224 with { Width = width } : new IssbaModelOptions { ImageSize = size, Width = width };
    using var model = new IssbaModel(modelOptions);
    var options = new IssbaLabOptions().Training with { Steps = steps, ResidualWeight = weight };
    var clock = Stopwatch.StartNew();
    var report = IssbaTrainer.Train(model, train, validation, options, new Progress<IssbaTrainingProgress>(p =>
    {
        if (p.Step % 100 == 0 || p.Step == p.TotalSteps - 1)
            Console.WriteLine($"step {p.Step}/{p.TotalSteps} loss {p.Loss:F4} bit acc {p.BitAccuracy:F3} ({clock.Elapsed.TotalSeconds:F0} s)");
    }));
    Console.WriteLine($"ISSBA {size} px, {model.ParameterCount:N0} weights, {steps} steps of {options.BatchSize}: PSNR {report.Psnr:F2} dB, bit accuracy {report.BitAccuracy:P2} (trigger secret {report.TriggerBitAccuracy:P2}), mean |residual| {report.MeanAbsResidual * 255:F2}/255, {report.Elapsed.TotalSeconds:F0} s");
    Directory.CreateDirectory(root);
    model.Save(Path.Combine(root, $"issba-{size}.safetensors"));
}
