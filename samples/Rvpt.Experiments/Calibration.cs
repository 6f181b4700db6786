// Gate C exploration for issue 12: clean models of several sizes and pre-training recipes, and what inserting
// untrained prompts and training RVPT (alpha 2, learning rate chosen on clean validation) cost on clean data.
// No backdoor is involved. Arguments are key=value (see Defaults below); every run appends one JSON line to
// artifacts/experiments/calib.jsonl.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Rvpt;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

internal static class Calibration
{
    private static readonly Dictionary<string, string> Defaults = new()
    {
        ["shapes"] = "12", ["defend"] = "12", ["size"] = "32",
        ["w"] = "128", ["L"] = "4", ["hd"] = "32", ["p"] = "8", ["e"] = "64", ["tw"] = "128", ["tl"] = "2",
        ["pairs"] = "24000", ["ep"] = "5", ["bs"] = "64", ["lr"] = "1e-3", ["lw"] = "1", ["warm"] = "200", ["wd"] = "0.1",
        ["tmpl"] = "default", ["db"] = "1:16", ["alpha"] = "2", ["lrs"] = "0.002,0.02,0.2", ["pep"] = "50", ["shots"] = "16",
        ["seed"] = "1", ["vpt"] = "0", ["val"] = "600", ["test"] = "1200", ["init"] = "gauss", ["diag"] = "0",
        // model: load this clean model directory (e.g. the demo cache's) instead of pre-training one;
        // dnoise, dsizes, d2nd, dscale, dcontrast: the defended task's departures from the pre-training world (DefendedTask.cs);
        // zsonly=1: print the zero-shot accuracies and stop.
        ["model"] = "", ["dnoise"] = "", ["dsizes"] = "", ["d2nd"] = "", ["dscale"] = "", ["dcontrast"] = "", ["zsonly"] = "0",
        // aug=1: CoOp augmentation (random resized crop and flip) while tuning prompts; the frozen-branch cache is then off.
        ["aug"] = "0",
        // ls: set the clean model's logit scale exp(logit_scale) to this value after loading (e.g. 100, OpenAI CLIP's);
        // "" keeps the learned one. Zero-shot accuracy does not change (argmax); the prompts' cross-entropy does.
        ["ls"] = "",
        // gbdecay=1: weight decay on every parameter, as every run before the library followed CleanCLIP's rule (its
        // default now); gbdecay=0: no decay on LayerNorm gains, biases and logit_scale (CleanCLIP's and OpenCLIP's code).
        ["gbdecay"] = "1",
    };

    public static void Run(string[] args, string root)
    {
        var a = KeyValueArgs.Parse(args, Defaults);
        int I(string k) => a.Int(k);
        double D(string k) => a.Double(k);
        var sw = Stopwatch.StartNew();

        var shapes = SyntheticWorldOptions.SupportedShapes.Take(I("shapes")).ToArray();
        var worldOptions = new SyntheticWorldOptions { ClassNames = shapes, ImageSize = I("size") };
        if (a["tmpl"] == "rich") worldOptions = worldOptions with { CaptionTemplates = RichTemplates };
        var world = new SyntheticWorld(worldOptions);
        var defendedOptions = worldOptions with { ClassNames = shapes.Take(I("defend")).ToArray() };
        defendedOptions = DefendedTask.Apply(defendedOptions, a) ?? defendedOptions;
        var defended = new SyntheticWorld(defendedOptions);
        var pre = new SyntheticPretrainingOptions
        {
            Pairs = I("pairs"), Epochs = I("ep"), BatchSize = I("bs"), LearningRate = D("lr"), ClassPromptWeight = D("lw"),
            WarmupSteps = I("warm"), WeightDecay = D("wd"), DecayGainsAndBiases = a["gbdecay"] == "1",
        };
        var vision = new ClipVisionConfig { ImageSize = I("size"), PatchSize = I("p"), Width = I("w"), Layers = I("L"), Heads = I("w") / I("hd") };
        var store = new SyntheticModelStore(Path.Combine(root, "calib-store"));
        var key = JsonSerializer.Serialize(new { worldOptions.ClassNames, worldOptions.ImageSize, tmpl = a["tmpl"], vision, e = I("e"), tw = I("tw"), tl = I("tl"), pre });
        bool cached = a["model"] != "" || store.Contains("clean", key);
        using var clean = a["model"] != "" ? ClipModel.FromPretrained(a["model"]) : store.GetOrBuild("clean", key, dir =>
        {
            var tok = SyntheticClip.CreateTokenizer(world, dir);
            var cfg = new ClipConfig
            {
                EmbedDim = I("e"), Vision = vision,
                Text = new ClipTextConfig { ContextLength = SyntheticClip.ContextLength, VocabSize = tok.VocabularySize, Width = I("tw"), Layers = I("tl"), Heads = I("tw") / 32 },
            };
            cfg.Validate();
            var m = new ClipModelBuilder().WithConfig(cfg).WithRandomWeights(pre.Seed).WithTokenizerDirectory(dir).Build();
            Console.WriteLine($"params {cfg.ParameterCount:N0} (vision {cfg.Vision.Width}x{cfg.Vision.Layers}, patch {cfg.Vision.PatchSize})");
            var last = Stopwatch.StartNew();
            new SyntheticClipPretrainer(world, pre).Train(m, new Progress<FineTuningProgress>(p =>
            {
                if (p.Step % 200 == 0) { Console.WriteLine($"  pretrain step {p.Step}/{p.TotalSteps} loss {p.Loss:F3} ({last.Elapsed.TotalSeconds:F0}s)"); }
            }));
            return m;
        });
        double? pretrainSeconds = cached ? null : sw.Elapsed.TotalSeconds;
        Console.WriteLine($"clean model {(cached ? "cached" : $"built in {pretrainSeconds:F0}s")}: {clean.Config.ParameterCount:N0} params, logit scale {Math.Exp(clean.LogitScale.item<float>()):F2}");
        LogitScaleKey.Apply(clean, a);

        // The defender's splits (base seed 2), only the defended classes.
        using var pool = defended.ToLabeledDataset(SyntheticWorld.SplitSeed(2, SyntheticSplit.Train), DefenderPool.Images(I("shots"), defended.ClassNames.Count));
        using var val = defended.ToLabeledDataset(SyntheticWorld.SplitSeed(2, SyntheticSplit.Validation), I("val"));
        using var test = defended.ToLabeledDataset(SyntheticWorld.SplitSeed(2, SyntheticSplit.Test), I("test"));
        double Zs(TensorDataset set) { using var c = ZeroShotImageClassifier.Create(clean, set.ClassNames, PromptTemplates.APhotoOfA); return new BackdoorEvaluator(clean.ImageProcessor, 200).Evaluate(c, set, null, 0).CleanAccuracy; }
        double cleanVal = Zs(val), cleanTest = Zs(test);
        Console.WriteLine($"zero-shot: val {100 * cleanVal:F2}  test {100 * cleanTest:F2}");
        if (a["zsonly"] == "1") return;

        int seed = I("seed");
        var shots = FewShotSampler.Sample(pool, I("shots"), seed);
        var rows = new List<object>();
        foreach (var spec in a["db"].Split(','))
        {
            var parts = spec.Split(':');
            var promptOptions = new DeepPromptOptions
            {
                UnpromptedDepth = int.Parse(parts[0], CultureInfo.InvariantCulture), Tokens = int.Parse(parts[1], CultureInfo.InvariantCulture), Seed = seed,
                Init = a["init"] == "xavier" ? PromptInit.XavierUniform : PromptInit.Gaussian(),
            };
            double initVal, initTest;
            using (var p0 = DeepPromptInjector.For(clean).WithOptions(promptOptions).Build())
            {
                initVal = PromptedAccuracy.Evaluate(p0, val); initTest = PromptedAccuracy.Evaluate(p0, test);
            }
            var results = new Dictionary<string, object>();
            foreach (var (name, alpha) in new[] { ("rvpt", D("alpha")), ("vpt", 0.0) })
            {
                if (name == "vpt" && a["vpt"] != "1") continue;
                var trials = new List<string>();
                double bestVal = -1, bestTest = 0, bestLr = 0, bestFr = 0;
                foreach (var lr in a["lrs"].Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)))
                {
                    using var prompts = DeepPromptInjector.For(clean).WithOptions(promptOptions).Build();
                    var summary = FewShotTrainer.For(clean, prompts).WithLoss(new RepulsiveLoss(alpha))
                        .WithClasses(defended.ClassNames, PromptTemplates.APhotoOfA)
                        .WithOptions(new TrainingOptions { Epochs = I("pep"), LearningRate = lr, Seed = seed, Augment = a["aug"] == "1", CacheFrozenClassTokens = a["aug"] != "1" })
                        .Build().Fit(shots);
                    double v = PromptedAccuracy.Evaluate(prompts, val);
                    trials.Add($"{lr}:{100 * v:F1}(fr {summary.FinalRepelling:F2})");
                    if (a["diag"] == "1") Diagnose(prompts, val, $"D={parts[0]} b={parts[1]} {name} lr {lr}");
                    if (v > bestVal) { bestVal = v; bestLr = lr; bestFr = summary.FinalRepelling; bestTest = PromptedAccuracy.Evaluate(prompts, test); }
                }
                results[name] = new { lr = bestLr, val = 100 * bestVal, test = 100 * bestTest, fr = bestFr, trials };
                Console.WriteLine($"  D={parts[0]} b={parts[1]} {name}: test {100 * bestTest:F2} (cost {100 * (cleanTest - bestTest):F2}) lr {bestLr} fr {bestFr:F3}  [{string.Join(" ", trials)}]");
            }
            Console.WriteLine($"  D={parts[0]} b={parts[1]} untrained prompts: val {100 * initVal:F2} test {100 * initTest:F2} (cost {100 * (cleanTest - initTest):F2})");
            rows.Add(new { D = parts[0], b = parts[1], initVal = 100 * initVal, initTest = 100 * initTest, results });
        }
        var line = JsonSerializer.Serialize(new { args = a, pretrainSeconds, cleanVal = 100 * cleanVal, cleanTest = 100 * cleanTest, rows, totalSeconds = sw.Elapsed.TotalSeconds });
        Directory.CreateDirectory(root);
        File.AppendAllText(Path.Combine(root, "calib.jsonl"), line + "\n");
        Console.WriteLine($"total {sw.Elapsed.TotalSeconds:F0}s");
    }

    /// <summary>
    /// Per prompted block on the first 256 validation images: mean norm of the original class token sigma, of the
    /// prompted one c, their mean cosine, the share of sigma's energy that is the same for every image (the mean over
    /// images), and the norm of the class token's update by the block in the original encoder.
    /// </summary>
    private static void Diagnose(DeepPromptInjector prompts, TensorDataset val, string what)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var clip = prompts.Clip;
        var n = Math.Min(256, val.Count);
        var pixels = clip.ImageProcessor.Normalize(stack(Enumerable.Range(0, n).Select(i => val.LoadPixels01(i)).ToArray()));
        var trunk = prompts.RunSharedTrunk(pixels);
        var frozen = prompts.RunFrozen(trunk);               // [N, blocks, w]
        var prompted = prompts.RunPrompted(trunk).ClassTokens;
        var before = trunk.select(1, 0);                     // class token entering the first prompted block
        var lines = new List<string>();
        for (int k = 0; k < frozen.shape[1]; k++)
        {
            var sg = frozen.select(1, k); var c = prompted.select(1, k);
            var prev = k == 0 ? before : frozen.select(1, k - 1);
            double ns = sg.norm(1).mean().item<float>(), nc = c.norm(1).mean().item<float>();
            double cos = nn.functional.cosine_similarity(sg, c, 1).mean().item<float>();
            double total = sg.pow(2).sum(1).mean().item<float>();
            var mu = sg.mean(new long[] { 0 });
            double shared = mu.pow(2).sum().item<float>() / total;
            var labels = tensor(Enumerable.Range(0, n).Select(i => (long)val.GetLabel(i)).ToArray());
            var classMeans = zeros(val.ClassNames.Count, sg.shape[1]).index_add(0, labels, sg, 1.0) / bincount(labels, minlength: val.ClassNames.Count).unsqueeze(1).to_type(ScalarType.Float32);
            double between = (classMeans.index_select(0, labels) - mu).pow(2).sum(1).mean().item<float>() / total;
            double update = (sg - prev).norm(1).mean().item<float>();
            lines.Add($"blk{prompts.UnpromptedDepth + k + 1}: |s| {ns:F1} |c| {nc:F1} cos {cos:F2} shared {shared:F2} class {between:F2} |upd| {update:F1}");
        }
        Console.WriteLine($"    diag {what}: |cls in| {before.norm(1).mean().item<float>():F1} | {string.Join(" | ", lines)}");
    }

    /// <summary>Captions that always name two to four non-class attributes.</summary>
    private static readonly string[] RichTemplates =
    [
        "a {colour} {shape} on a {texture} {background} background.",
        "a {size} {colour} {shape} in the {position}.",
        "a photo of a {size} {colour} {shape} on a {background} background.",
        "a {colour} {shape} in the {position} on a {texture} background.",
        "a {size} {shape} on a {texture} {background} background.",
        "a picture of a {colour} {shape} in the {position}.",
    ];
}

/// <summary>Synchronous progress (System.Progress posts to the thread pool).</summary>
internal sealed class Progress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Writes a PNG grid of every supported shape (4 samples each) for a visual check of the renderer.</summary>
internal static class ShapeSheet
{
    public static void Write(string path)
    {
        var shapes = SyntheticWorldOptions.SupportedShapes;
        var world = new SyntheticWorld(new SyntheticWorldOptions { ClassNames = shapes, SecondObjectProbability = 0, NoiseStd = 0 });
        int s = world.ImageSize, n = shapes.Count, k = 4, scale = 3;
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(k * s * scale, n * s * scale);
        for (int c = 0; c < n; c++)
            for (int j = 0; j < k; j++)
            {
                using var t = world.Render(9, j * n + c);
                var px = t.data<float>().ToArray();
                for (int y = 0; y < s * scale; y++)
                    for (int x = 0; x < s * scale; x++)
                    {
                        int p = (y / scale) * s + x / scale;
                        image[j * s * scale + x, c * s * scale + y] = new SixLabors.ImageSharp.PixelFormats.Rgb24(
                            (byte)(255 * px[p]), (byte)(255 * px[s * s + p]), (byte)(255 * px[2 * s * s + p]));
                    }
            }
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, path);
    }
}
