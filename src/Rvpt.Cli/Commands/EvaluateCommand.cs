using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Rvpt.Backdoor;
using Rvpt.Clip;
using Spectre.Console;

namespace Rvpt.Cli.Commands;

/// <summary>
/// <c>rvpt evaluate</c>: clean accuracy and attack success rate (overall and per class) of CLIP or of CLIP with saved
/// prompts on a test folder, as the library's <see cref="BackdoorEvaluator"/> measures them.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(GlobalOptions global)
    {
        var model = new ModelOptions();
        var prompts = new Option<string?>("--prompts") { Description = "A prompt checkpoint saved by `rvpt defend` (evaluate the defended encoder); default: the model as it is." };
        var test = new Option<string>("--test") { Description = "Test images, one sub-folder per class.", Required = true };
        var trigger = new Option<string?>("--trigger") { Description = $"The attack's trigger: {TriggerSpec.Help}. Without it only clean accuracy is measured." };
        var target = new Option<string?>("--target") { Description = "The attack's target class (a class folder name); required with --trigger." };
        var placement = new Option<string>("--placement") { Description = "Where the trigger goes: squash (resize the whole image to the model's size, then trigger, as the attacks' code) or crop (CLIP's resize and centre crop, then trigger).", DefaultValueFactory = _ => "squash" };
        var classes = new Option<string?>("--classes") { Description = "Class names, one per line, for the class folders (by name or in sorted folder order)." };
        var templates = new Option<string?>("--templates") { Description = "photo, imagenet or a template file. Default: the prompts' own with --prompts, else photo." };
        var seed = new Option<long>("--seed") { Description = "Seed of the trigger's random choices (patch positions, noise).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Images per forward pass.", DefaultValueFactory = _ => 64 };
        var defence = new Option<string?>("--defence-name") { Description = "Name of the defence in the report (default: RVPT with --prompts, else none)." };
        var output = new Option<string?>("--out") { Description = "Folder for results.md, results.csv and results.json (a report `rvpt report merge` reads)." };
        var format = new Option<string>("--format") { Description = $"Output: {OutputFormats.Help}.", DefaultValueFactory = _ => "table" };
        var command = new Command("evaluate", "Measure clean accuracy (CA) and attack success rate (ASR), overall and per class.");
        model.AddTo(command);
        foreach (var o in new Option[] { prompts, test, trigger, target, placement, classes, templates, seed, batch, defence, output, format }) command.Add(o);

        RvptCli.SetWork(command, global, (parse, context, ct) =>
        {
            var request = model.Read(parse);
            var testPath = parse.GetValue(test)!;
            CliChecks.DirectoryExists(testPath, "--test", "a folder with one sub-folder of images per class");
            var promptsPath = parse.GetValue(prompts);
            if (promptsPath is not null) CliChecks.FileExists(promptsPath, "--prompts", "a prompt checkpoint (.safetensors) written by rvpt defend");
            var classesFile = parse.GetValue(classes);
            if (classesFile is not null) CliChecks.FileExists(classesFile, "--classes", "a file with one class name per line");
            var triggerSpec = parse.GetValue(trigger);
            var targetName = parse.GetValue(target);
            if (triggerSpec is not null && targetName is null) throw new CliInputException("--target is required with --trigger (the attack's target class).");
            var where = ParsePlacement(parse.GetValue(placement)!);
            var templateList = parse.GetValue(templates) is { } t ? CliChecks.Templates(t) : null;
            int batchSize = CliChecks.Positive(parse.GetValue(batch), "--batch");
            var outputFormat = OutputFormats.Parse(parse.GetValue(format)!, context.Json);
            var outDir = parse.GetValue(output);

            using var clip = request.Load(context.Logger);
            var data = ImageFolders.Open(testPath, "--test", clip.ImageProcessor, classesFile);
            int targetIndex = targetName is null ? 0 : CliChecks.ClassIndex(data.ClassNames, targetName, "--target", $"--test '{testPath}'");
            using var injector = promptsPath is null ? null : PromptFiles.Load(promptsPath, clip);
            if (injector is not null) ImageFolders.MatchesPrompts(data, "--test", injector.ClassNames, promptsPath!);
            var usedTemplates = templateList ?? injector?.Templates ?? PromptTemplates.APhotoOfA;
            var activeTrigger = triggerSpec is null ? null : TriggerSpec.Create(triggerSpec);
            try
            {
                var metrics = ProgressDisplay.Run(context, $"Evaluating on {data.Count} test images{(activeTrigger is null ? "" : $" with {activeTrigger.Name}")}", _ =>
                    Measure(clip, injector, data, usedTemplates, activeTrigger, targetIndex, where, parse.GetValue(seed), batchSize, ct));
                var defenceName = parse.GetValue(defence) ?? (injector is null ? "none" : "RVPT");
                var attackName = activeTrigger?.Name ?? "clean";
                var configuration = new Dictionary<string, string>
                {
                    ["model"] = request.Path,
                    ["test"] = testPath,
                    ["placement"] = parse.GetValue(placement)!,
                    ["trigger_seed"] = parse.GetValue(seed).ToString(CultureInfo.InvariantCulture),
                };
                if (promptsPath is not null) configuration["prompts"] = promptsPath;
                var report = new DefenceReport().Add(new DefenceReportCell(attackName, defenceName, metrics, 0, configuration));
                if (outDir is not null)
                {
                    report.Save(outDir);
                    context.Note($"Wrote {Path.Combine(outDir, "results.md")}, results.csv and results.json");
                }
                Write(context, outputFormat, data.ClassNames, metrics, attackName, defenceName, report);
            }
            finally
            {
                (activeTrigger as IDisposable)?.Dispose();
            }
            return ExitCodes.Success;
        });
        return command;
    }

    internal static TriggerPlacement ParsePlacement(string text) => text.Trim().ToLowerInvariant() switch
    {
        "squash" or "resize" => TriggerPlacement.ResizeThenTrigger,
        "crop" or "centre-crop" or "center-crop" => TriggerPlacement.AfterCentreCrop,
        _ => throw new CliInputException($"--placement '{text}' is not a placement; expected squash or crop."),
    };

    /// <summary>CA and ASR; for TrojVQA the triggered images are classified with the key in the class prompts, as BadCLIP's evaluation does.</summary>
    internal static BackdoorMetrics Measure(ClipModel clip, DeepPromptInjector? prompts, ILabeledImageSource data, IReadOnlyList<string> templates,
        ITrigger? trigger, int target, TriggerPlacement placement, long seed, int batchSize, CancellationToken ct)
    {
        var evaluator = new BackdoorEvaluator(clip.ImageProcessor, batchSize) { Placement = placement };
        using var classifier = Create(templates);
        if (trigger is TrojVqaTrigger trojVqa)
        {
            using var keyed = Create(trojVqa.KeyedTemplates(templates));
            return evaluator.Evaluate(classifier, keyed, data, trigger, target, seed, cancellationToken: ct);
        }
        return evaluator.Evaluate(classifier, data, trigger, target, seed, cancellationToken: ct);

        ZeroShotImageClassifier Create(IReadOnlyList<string> t) => prompts is null
            ? ZeroShotImageClassifier.Create(clip, data.ClassNames, t)
            : ZeroShotImageClassifier.WithPrompts(prompts, data.ClassNames, t);
    }

    private static void Write(CliContext context, OutputFormat format, IReadOnlyList<string> classes, BackdoorMetrics m, string attack, string defence, DefenceReport report)
    {
        switch (format)
        {
            case OutputFormat.Json:
                var perClass = new JsonArray();
                for (int c = 0; c < classes.Count; c++)
                    perClass.Add(new JsonObject { ["class"] = classes[c], ["ca"] = JsonOutput.Number(m.CleanAccuracyPerClass[c]), ["asr"] = JsonOutput.Number(m.AttackSuccessRatePerClass[c]) });
                context.WriteJson(new JsonObject
                {
                    ["attack"] = attack,
                    ["defence"] = defence,
                    ["ca"] = JsonOutput.Number(m.CleanAccuracy),
                    ["asr"] = JsonOutput.Number(m.AttackSuccessRate),
                    ["target"] = classes[m.TargetClass],
                    ["clean_images"] = m.CleanCount,
                    ["attacked_images"] = m.AttackedCount,
                    ["per_class"] = perClass,
                    ["report"] = System.Text.Json.Nodes.JsonNode.Parse(report.ToJson()),
                }.ToJsonString(JsonOutput.Indented));
                break;
            case OutputFormat.Csv:
                var csv = new StringBuilder("class,ca,asr\n");
                csv.Append(CultureInfo.InvariantCulture, $"(all),{R(m.CleanAccuracy)},{R(m.AttackSuccessRate)}\n");
                for (int c = 0; c < classes.Count; c++)
                    csv.Append(CultureInfo.InvariantCulture, $"{OutputFormats.Csv(classes[c])},{R(m.CleanAccuracyPerClass[c])},{R(m.AttackSuccessRatePerClass[c])}\n");
                context.Result(csv.ToString());
                break;
            default:
                var text = new StringBuilder();
                text.Append(CultureInfo.InvariantCulture, $"### {attack}, defence {defence}: CA {P(m.CleanAccuracy)}, ASR {P(m.AttackSuccessRate)}\n\n");
                text.Append(CultureInfo.InvariantCulture, $"{m.CleanCount} clean images; {m.AttackedCount} non-target images triggered; target class '{classes[m.TargetClass]}'.\n\n");
                text.Append("| class | CA % | ASR % |\n|---|---:|---:|\n");
                for (int c = 0; c < classes.Count; c++)
                    text.Append(CultureInfo.InvariantCulture, $"| {classes[c]} | {P(m.CleanAccuracyPerClass[c])} | {P(m.AttackSuccessRatePerClass[c])} |\n");
                context.Result(text.ToString());
                break;
        }

        static string R(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";
        static string P(double v) => double.IsFinite(v) ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) : "-";
    }
}
