using System.CommandLine;
using System.Text.Json.Nodes;
using Rvpt.Backdoor;
using Rvpt.Clip;

namespace Rvpt.Cli.Commands;

/// <summary>
/// <c>rvpt suite</c>: the comparison table for one (backdoored) model and trigger: the chosen defences, each seed, with
/// learning rates chosen on clean validation data (<see cref="DefenceSuite"/>); writes the "ASR% (CA%)" report,
/// <c>suite.json</c> with the selection trials, charts, and the RVPT prompts of every seed.
/// </summary>
internal static class SuiteCommand
{
    public static Command Create(GlobalOptions global)
    {
        var options = new SuiteOptions();
        var trigger = new Option<string>("--trigger") { Description = $"The attack's trigger: {TriggerSpec.Help}.", Required = true };
        var target = new Option<string>("--target") { Description = "The attack's target class (a class folder name).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: results.md/.csv/.json, suite.json, asr.png, ca.png, prompts/.", Required = true };
        var command = new Command("suite", "Run the chosen defences and seeds against one model and trigger; report ASR% (CA%).");
        options.AddTo(command, withTrigger: true);
        command.Add(trigger);
        command.Add(target);
        command.Add(output);
        RvptCli.SetWork(command, global, (parse, context, ct) =>
        {
            var settings = options.Read(parse, parse.GetValue(trigger)!, parse.GetValue(target)!, parse.GetValue(output)!);
            var report = Run(settings, context, ct);
            if (context.Json) context.WriteJson(report.ToJson());
            else context.Result(report.ToMarkdown());
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Runs the suite of <paramref name="s"/> (inputs checked before the first defence trains) and writes its files.</summary>
    public static DefenceReport Run(SuiteSettings s, CliContext context, CancellationToken ct)
    {
        var request = new ModelRequest(s.Model, s.Tokenizer, ModelOptions.ParseDevice(s.Device), ModelOptions.ParseDType(s.DType, "--dtype"), false);
        var templates = CliChecks.Templates(s.Templates);
        using var clip = request.Load(context.Logger);
        var data = TrainingData.Open(clip.ImageProcessor, s.Train, s.Val, s.ValFraction, s.SplitSeed, s.Shots, s.Classes);
        var test = ImageFolders.Open(s.Test, "--test", clip.ImageProcessor, s.Classes);
        ImageFolders.SameClasses(data.Train, "--train", test, "--test");
        int target = CliChecks.ClassIndex(test.ClassNames, s.Target, "--target", $"--test '{s.Test}'");
        var prompts = DeepPromptOptions.ScaledTo(clip.Config.Vision);
        prompts = prompts with { UnpromptedDepth = s.Depth ?? prompts.UnpromptedDepth, Tokens = s.Tokens ?? prompts.Tokens };
        if (prompts.UnpromptedDepth >= clip.Config.Vision.Layers)
            throw new CliInputException($"--depth {prompts.UnpromptedDepth} leaves no block to prompt: the model has {clip.Config.Vision.Layers} vision blocks.");
        var trigger = TriggerSpec.Create(s.Trigger);
        try
        {
            var suiteOptions = new DefenceSuiteOptions
            {
                Defences = s.Defences,
                Seeds = s.Seeds,
                Shots = s.Shots,
                Prompts = prompts,
                Alpha = s.Alpha,
                PromptTraining = new TrainingOptions { Epochs = s.Epochs, BatchSize = s.Batch, Augment = s.Augment, WarmupEpochs = s.Epochs > 1 ? 1 : 0 },
                PromptLearningRates = s.LearningRates,
                Templates = templates,
                ResistivityImages = s.Resistivity,
                PromptOutputDirectory = Path.Combine(s.Out, "prompts"),
            };
            DefenceSuite suite;
            try
            {
                suite = new DefenceSuite(suiteOptions, context.Logger);
            }
            catch (ArgumentException e)
            {
                throw new CliInputException(e.Message, e);
            }
            context.Note($"{test.ClassNames.Count} classes; shots from {data.Pool.Count} training images; validation: {data.ValidationDescription}; {test.Count} test images.");
            var result = ProgressDisplay.Run(context, $"Defences against {trigger.Name}", report =>
                suite.Run(new DefenceSuiteRequest(clip, data.Pool, data.Validation, test)
                {
                    Attack = trigger.Name, Trigger = trigger, TargetClass = target,
                    CleanPairs = s.Defences.Contains(DefenceKind.CleanClip) ? new LabelCaptionSource(data.Pool) : null,
                }, new InlineProgress<DefenceSuiteProgress>(p => report(p.Fraction, p.Phase)), ct));
            var report = new DefenceReport();
            foreach (var run in result.Runs) report.Add(run.ToCell());
            Directory.CreateDirectory(s.Out);
            report.Save(s.Out);
            AtomicText.Write(Path.Combine(s.Out, "suite.json"), Details(s, result).ToJsonString(JsonOutput.Indented));
            ReportCharts.Write(report, s.Out);
            var charts = "asr.png, ca.png";
            if (result.ResistivityBefore is not null)
            {
                charts += ", " + string.Join(", ", ResistivityReport.Write(s.Out, trigger.Name, result.ResistivityBefore, result.ResistivityAfter));
            }
            context.Note($"Wrote {Path.Combine(s.Out, "results.md")}, results.csv, results.json, suite.json, {charts}");
            return report;
        }
        finally
        {
            (trigger as IDisposable)?.Dispose();
        }
    }

    private static JsonObject Details(SuiteSettings s, DefenceSuiteResult result) => new()
    {
        ["command"] = ShellWords.Join(["rvpt", .. SuiteOptions.ToArguments(s)]),
        ["runs"] = new JsonArray(result.Runs.Select(r => (JsonNode)new JsonObject
        {
            ["attack"] = r.Attack,
            ["defence"] = DefenceSuite.DisplayName(r.Defence),
            ["seed"] = r.Seed,
            ["ca"] = JsonOutput.Number(r.Metrics.CleanAccuracy),
            ["asr"] = JsonOutput.Number(r.Metrics.AttackSuccessRate),
            ["final_repelling"] = JsonOutput.Number(r.FinalRepelling),
            ["elapsed_seconds"] = r.Elapsed.TotalSeconds,
            ["selection"] = new JsonArray(r.Selection.Select(t => (JsonNode)new JsonObject
            {
                ["candidate"] = t.Candidate, ["validation_accuracy"] = JsonOutput.Number(t.ValidationAccuracy), ["chosen"] = t.Chosen,
            }).ToArray()),
        }).ToArray()),
    };
}
