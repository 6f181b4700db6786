using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Rvpt.Clip;
using Spectre.Console;

namespace Rvpt.Cli.Commands;

/// <summary>
/// <c>rvpt defend</c>: trains RVPT prompts on a few clean shots per class (<see cref="FewShotTrainer"/>), with clean
/// validation accuracy after every epoch, a resumable training state in <c>OUT/checkpoint</c>, a JSON-lines training
/// log and a summary; writes the prompt checkpoint <c>OUT/prompts.safetensors</c> and its adapter file.
/// </summary>
internal static class DefendCommand
{
    public const string PromptsFile = "prompts.safetensors";
    public const string LogFile = "training-log.jsonl";
    public const string SummaryFile = "summary.json";
    public const string CheckpointFolder = "checkpoint";

    public static Command Create(GlobalOptions global)
    {
        var model = new ModelOptions();
        var train = new Option<string>("--train") { Description = "Clean labelled training images, one sub-folder per class.", Required = true };
        var val = new Option<string?>("--val") { Description = "Clean validation images with the same class folders (default: a seeded --val-fraction of --train)." };
        var valFraction = new Option<double>("--val-fraction") { Description = "Fraction of each class of --train held out for validation when --val is not given.", DefaultValueFactory = _ => 0.2 };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: prompts.safetensors (+ .json adapter), training-log.jsonl, summary.json, checkpoint/.", Required = true };
        var classes = new Option<string?>("--classes") { Description = "Class names for the class folders, one per line (by name or in sorted folder order)." };
        var shots = new Option<int>("--shots") { Description = "Training images per class.", DefaultValueFactory = _ => 16 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => 50 };
        var depth = new Option<int?>("--depth") { Description = "Unprompted depth D: prompts enter from block D + 1 (default: the paper's 3 of 12 blocks, scaled to the model)." };
        var tokens = new Option<int?>("--tokens") { Description = "Prompt tokens per block b (default: the paper's 50 for 49 patches, scaled to the model)." };
        var alpha = new Option<double>("--alpha") { Description = "Weight of the feature-repelling term (0 = plain VPT).", DefaultValueFactory = _ => 2.0 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 0.002 };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum 0.9, weight decay 5e-4, the paper's) or adamw (weight decay 0.01).", DefaultValueFactory = _ => "sgd" };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => 32 };
        var seed = new Option<int>("--seed") { Description = "Seed of the shots, the validation split, prompt initialisation, shuffling and augmentation.", DefaultValueFactory = _ => 1 };
        var augment = new Option<bool>("--augment") { Description = "CoOp augmentation (random resized crop + flip); --augment false turns it off.", DefaultValueFactory = _ => true };
        var templates = new Option<string>("--templates") { Description = "photo, imagenet or a template file.", DefaultValueFactory = _ => "photo" };
        var patience = new Option<int>("--patience") { Description = "Stop when the validation accuracy has not improved for this many epochs and keep the best epoch's prompts (0: never).", DefaultValueFactory = _ => 0 };
        var mixed = new Option<bool>("--mixed-precision") { Description = "Compute the frozen image tower in bfloat16 (prompts and loss stay float32)." };
        var cacheMib = new Option<int>("--cache-mib") { Description = "Memory the per-sample caches may hold without augmentation (frozen class tokens first, then the trunk; exact, only faster); 0 turns them off.", DefaultValueFactory = _ => 2048 };
        var fast = new Option<bool>("--fast-blocks") { Description = "Skip what VPT-deep throws away: the prompts' own outputs in every prompted block and all but the class token in the last (about 40% faster per step at ViT-B/32; equal to the full blocks up to float rounding, so a run with it is another run for --resume)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from OUT/checkpoint after Ctrl+C or a crash (same settings and data)." };
        var command = new Command("defend", "Train RVPT prompts against a backdoor on a few clean shots per class; resumable.");
        model.AddTo(command);
        foreach (var o in new Option[] { train, val, valFraction, output, classes, shots, epochs, depth, tokens, alpha, lr, optimizer, batch, seed, augment, templates, patience, mixed, cacheMib, fast, resume })
            command.Add(o);

        RvptCli.SetWork(command, global, (parse, context, ct) =>
        {
            // Everything is checked before the model is loaded and long before training starts.
            var request = model.Read(parse);
            var trainPath = parse.GetValue(train)!;
            CliChecks.DirectoryExists(trainPath, "--train", "a folder with one sub-folder of images per class");
            var valPath = parse.GetValue(val);
            if (valPath is not null) CliChecks.DirectoryExists(valPath, "--val", "a folder with one sub-folder of images per class");
            var classesFile = parse.GetValue(classes);
            if (classesFile is not null) CliChecks.FileExists(classesFile, "--classes", "a file with one class name per line");
            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            if (File.Exists(outDir)) throw new CliInputException($"--out '{outDir}' is a file; expected a folder.");
            int shotCount = CliChecks.Positive(parse.GetValue(shots), "--shots");
            int epochCount = CliChecks.Positive(parse.GetValue(epochs), "--epochs");
            int batchSize = CliChecks.Positive(parse.GetValue(batch), "--batch");
            int? promptDepth = parse.GetValue(depth) is { } d ? CliChecks.NonNegative(d, "--depth") : null;
            int? promptTokens = parse.GetValue(tokens) is { } b ? CliChecks.Positive(b, "--tokens") : null;
            double alphaValue = parse.GetValue(alpha);
            if (!(alphaValue >= 0 && double.IsFinite(alphaValue))) throw new CliInputException($"--alpha must be finite and >= 0; got {alphaValue}.");
            double rate = CliChecks.PositiveFinite(parse.GetValue(lr), "--lr");
            var optimizerKind = parse.GetValue(optimizer)!.Trim().ToLowerInvariant() switch
            {
                "sgd" => PromptOptimizer.Sgd,
                "adamw" => PromptOptimizer.AdamW,
                var other => throw new CliInputException($"--optimizer '{other}' is not an optimiser; expected sgd or adamw."),
            };
            int seedValue = parse.GetValue(seed);
            int patienceValue = CliChecks.NonNegative(parse.GetValue(patience), "--patience");
            long cacheBytes = CliChecks.NonNegative(parse.GetValue(cacheMib), "--cache-mib") * (1L << 20);
            var templateList = CliChecks.Templates(parse.GetValue(templates)!);
            var checkpointDir = Path.Combine(outDir, CheckpointFolder);
            bool resuming = parse.GetValue(resume);
            bool hasState = File.Exists(Path.Combine(checkpointDir, "training-state.safetensors"));
            if (hasState && !resuming)
                throw new CliInputException($"--out '{outDir}' holds the training state of an earlier run ({CheckpointFolder}/training-state.safetensors): pass --resume to continue it, or use another --out.");

            using var clip = request.Load(context.Logger);
            var data = TrainingData.Open(clip.ImageProcessor, trainPath, valPath, parse.GetValue(valFraction), seedValue, shotCount, classesFile);
            var shotSet = FewShotSampler.Sample(data.Pool, shotCount, seedValue);
            var promptOptions = DeepPromptOptions.ScaledTo(clip.Config.Vision);
            promptOptions = promptOptions with
            {
                UnpromptedDepth = promptDepth ?? promptOptions.UnpromptedDepth,
                Tokens = promptTokens ?? promptOptions.Tokens,
                Seed = seedValue,
            };
            if (promptOptions.UnpromptedDepth >= clip.Config.Vision.Layers)
                throw new CliInputException($"--depth {promptOptions.UnpromptedDepth} leaves no block to prompt: the model has {clip.Config.Vision.Layers} vision blocks (expected 0 <= D < {clip.Config.Vision.Layers}).");
            var options = new TrainingOptions
            {
                Epochs = epochCount,
                BatchSize = batchSize,
                LearningRate = rate,
                Seed = seedValue,
                Augment = parse.GetValue(augment),
                Optimizer = optimizerKind,
                WeightDecay = optimizerKind == PromptOptimizer.AdamW ? 0.01 : new TrainingOptions().WeightDecay,
                WarmupEpochs = epochCount > 1 ? 1 : 0,
                EarlyStoppingPatience = patienceValue,
                CheckpointDirectory = checkpointDir,
                ComputeDType = parse.GetValue(mixed) ? TorchSharp.torch.ScalarType.BFloat16 : null,
                CacheMemoryBudget = cacheBytes,
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new CliInputException(e.Message, e);
            }

            Directory.CreateDirectory(outDir);
            if (resuming && !hasState) context.Note($"--resume: no saved state in {checkpointDir}; starting from the beginning.");
            context.Note($"{data.Train.ClassNames.Count} classes; {shotSet.Count} shots ({shotCount} per class) from {data.Pool.Count} training images; validation: {data.ValidationDescription}.");
            using var prompts = DeepPromptInjector.For(clip).WithOptions(promptOptions).Build();
            bool fastBlocks = parse.GetValue(fast);
            prompts.ClassTokenOnlyLastBlock = prompts.SkipReplacedPromptOutputs = fastBlocks;
            var trainer = FewShotTrainer.For(clip, prompts)
                .WithLoss(new RepulsiveLoss(alphaValue))
                .WithClasses(data.Train.ClassNames, templateList)
                .WithOptions(options)
                .WithValidation(data.Validation, patienceValue)
                .WithLogger(context.Logger)
                .Build();

            var clock = Stopwatch.StartNew();
            using var log = new TrainingLog(Path.Combine(outDir, LogFile), append: resuming && hasState, clock);
            TrainingSummary summary;
            try
            {
                summary = ProgressDisplay.Run(context, $"RVPT on {Path.GetFileName(request.Path)}", report =>
                    trainer.Fit(shotSet, new InlineProgress<TrainingProgress>(p =>
                    {
                        log.Add(p);
                        report(p.Fraction, p.ValidationAccuracy is { } acc
                            ? FormattableString.Invariant($"epoch {p.Epoch}/{p.Epochs}, validation {acc:P1}")
                            : FormattableString.Invariant($"epoch {p.Epoch}/{p.Epochs}, loss {p.Loss:F4}"));
                    }), ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                context.ErrorLine("saved", $"the training state is in {checkpointDir}; run the same command with --resume to continue.");
                throw;
            }
            catch (InvalidDataException e) when (e.Message.Contains("training-state", StringComparison.Ordinal))
            {
                throw new CliInputException($"--resume: {e.Message}", e);
            }

            var promptsPath = Path.Combine(outDir, PromptsFile);
            prompts.Save(promptsPath);
            var summaryJson = Summary(request, trainPath, data, shotCount, options, promptOptions, alphaValue, templateList, fastBlocks, summary, clock.Elapsed, promptsPath);
            AtomicText.Write(Path.Combine(outDir, SummaryFile), summaryJson.ToJsonString(JsonOutput.Indented));
            if (context.Json)
            {
                context.WriteJson(summaryJson.ToJsonString(JsonOutput.Indented));
            }
            else
            {
                var table = new Table().HideHeaders().AddColumn("").AddColumn("");
                table.AddRow("prompts", Markup.Escape(promptsPath));
                table.AddRow("epochs", $"{summary.EpochsCompleted}{(summary.StoppedEarly ? " (stopped early)" : "")}");
                table.AddRow("final loss", summary.FinalLoss.ToString("F4", CultureInfo.InvariantCulture));
                if (summary.ValidationAccuracies.Count > 0)
                    table.AddRow("validation accuracy", FormattableString.Invariant($"{summary.ValidationAccuracies[^1]:P2} (best {summary.ValidationAccuracies.Max():P2}, epoch {summary.BestEpoch})"));
                table.AddRow("log", Markup.Escape(Path.Combine(outDir, LogFile)));
                context.Out.Write(table);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static JsonObject Summary(ModelRequest model, string trainPath, TrainingData data, int shots, TrainingOptions options, DeepPromptOptions prompts,
        double alpha, IReadOnlyList<string> templates, bool fastBlocks, TrainingSummary summary, TimeSpan elapsed, string promptsPath) => new()
    {
        ["model"] = model.Path,
        ["train"] = trainPath,
        ["validation"] = data.ValidationDescription,
        ["classes"] = new JsonArray(data.Train.ClassNames.Select(c => (JsonNode)c).ToArray()),
        ["shots"] = shots,
        ["epochs"] = options.Epochs,
        ["batch"] = options.BatchSize,
        ["lr"] = options.LearningRate,
        ["optimizer"] = options.Optimizer == PromptOptimizer.AdamW ? "adamw" : "sgd",
        ["seed"] = options.Seed,
        ["augment"] = options.Augment,
        ["depth"] = prompts.UnpromptedDepth,
        ["tokens"] = prompts.Tokens,
        ["alpha"] = alpha,
        ["fast_blocks"] = fastBlocks,
        ["templates"] = new JsonArray(templates.Select(t => (JsonNode)t).ToArray()),
        ["epochs_completed"] = summary.EpochsCompleted,
        ["resumed_from_epoch"] = summary.ResumedFromEpoch,
        ["resumed_from_step"] = summary.ResumedFromStep,
        ["steps"] = summary.Steps,
        ["final_loss"] = JsonOutput.Number(summary.FinalLoss),
        ["final_cross_entropy"] = JsonOutput.Number(summary.FinalCrossEntropy),
        ["final_repelling"] = JsonOutput.Number(summary.FinalRepelling),
        ["validation_accuracy"] = new JsonArray(summary.ValidationAccuracies.Select(JsonOutput.Number).ToArray()),
        ["best_epoch"] = summary.BestEpoch,
        ["stopped_early"] = summary.StoppedEarly,
        ["elapsed_seconds"] = elapsed.TotalSeconds,
        ["prompts"] = promptsPath,
    };
}
