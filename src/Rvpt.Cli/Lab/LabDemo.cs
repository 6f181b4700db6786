using System.Diagnostics;
using System.Globalization;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Cli.Lab;

/// <summary>
/// The demo's table on the synthetic world (<c>rvpt lab demo</c>, and <c>samples/Rvpt.Demo</c> through
/// <see cref="DemoCli"/>): load or build the clean model, plant one backdoor per attack, run every defence against
/// each, write the report. Nothing is downloaded.
/// </summary>
internal sealed class LabDemo(LabDemoSettings settings, PromptOverride prompts, CliContext context, string outputDirectory, SyntheticModelStore store, Device device)
{
    public int Run(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var logger = context.Logger;
        var lab = new SyntheticBackdoorLab(store, settings.Lab, logger);
        context.Note($"RVPT demo ({settings.Preset} preset): a synthetic world of {lab.World.ClassNames.Count} shape classes, target class {lab.Options.TargetClass}.");
        if (settings.Scope is { } scope) context.Note($"The {settings.Preset} preset is {scope}.");
        context.Note($"Models are cached in {store.Root}{(lab.HasCleanModel ? " (clean model found)" : " (the clean model is built on this first run)")}.");

        using var clean = ProgressDisplay.Run(context, lab.HasCleanModel ? "Loading the clean CLIP" : "Pre-training the clean CLIP", report =>
            lab.GetCleanModel(device, new InlineProgress<SyntheticLabProgress>(p => report((double)p.Step / p.TotalSteps, $"step {p.Step}/{p.TotalSteps}, loss {p.Loss:F3}")), cancellationToken));
        using var test = lab.TestSet(settings.TestImages);
        using var validation = lab.ValidationSet(settings.ValidationImages);
        using var pool = lab.DefenderPool(settings.PoolImages);
        // CleanCLIP's clean pairs are drawn only when it runs.
        using var pairs = settings.Suite.Defences.Contains(DefenceKind.CleanClip) ? lab.DefenderPairs(settings.CleanClipPairs) : null;
        var evaluator = new BackdoorEvaluator(clean.ImageProcessor, settings.Suite.EvaluationBatchSize);

        var suite = new DefenceSuite(settings.Suite with { Prompts = prompts.Apply(clean.Config.Vision, settings.Suite.Prompts) }, logger);
        var outcomes = new List<LabDemoOutcome>();
        foreach (var attack in settings.Attacks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var attackLab = new SyntheticBackdoorLab(store, settings.LabFor(attack), logger); // the attack's own poison fraction, if the preset gives one
            using var planted = ProgressDisplay.Run(context, attackLab.HasPlantedModel(attack) ? $"Loading the {attack} model" : $"Planting {attack}", report =>
                attackLab.GetPlantedModel(attack, clean, device, new InlineProgress<SyntheticLabProgress>(p => report((double)p.Step / p.TotalSteps, $"{p.Phase} {p.Step}/{p.TotalSteps}")), cancellationToken));
            BackdoorMetrics cleanMetrics;
            using (var classifier = ZeroShotImageClassifier.Create(clean, test.ClassNames, settings.Suite.Templates))
                cleanMetrics = evaluator.Evaluate(classifier, test, planted.Trigger, lab.TargetClassIndex, device: device, cancellationToken: cancellationToken);
            var result = ProgressDisplay.Run(context, $"Defending {attack}", report =>
                suite.Run(new DefenceSuiteRequest(planted.Model, pool, validation, test)
                    {
                        Attack = planted.Trigger.Name, Trigger = planted.Trigger, TargetClass = lab.TargetClassIndex, CleanPairs = pairs,
                    },
                    new InlineProgress<DefenceSuiteProgress>(p => report(p.Fraction, p.Phase)), cancellationToken));
            var none = result.Runs.First(r => r.Defence == DefenceKind.None).Metrics;
            bool passed = none.AttackSuccessRate >= settings.GateAsr && none.CleanAccuracy >= cleanMetrics.CleanAccuracy - settings.GateCaDrop;
            var gate = string.Create(CultureInfo.InvariantCulture,
                $"{(passed ? "planted" : "NOT planted")} (ASR {100 * none.AttackSuccessRate:F1}% vs gate {100 * settings.GateAsr:F0}%, CA {100 * none.CleanAccuracy:F1}% vs clean {100 * cleanMetrics.CleanAccuracy:F1}% - {100 * settings.GateCaDrop:F0} pts)");
            outcomes.Add(new LabDemoOutcome(planted.Trigger.Name, cleanMetrics, result, passed, gate));
            context.Note($"  {planted.Trigger.Name}: {gate}");
        }

        var settingsLines = new List<string>
        {
            // The README's main command; `rvpt lab demo` runs the same code with the same presets.
            $"Preset: {settings.Preset}{(settings.Scope is { } s ? $" ({s})" : "")}; command: `dotnet run --project samples/Rvpt.Demo -c Release{(settings.Preset == "default" ? "" : " -- --" + settings.Preset)}`",
            string.Create(CultureInfo.InvariantCulture, $"Clean model: {clean.Config.ParameterCount:N0} parameters, zero-shot test accuracy {100 * outcomes.FirstOrDefault()?.CleanModel.CleanAccuracy ?? double.NaN:F1}%"),
            string.Create(CultureInfo.InvariantCulture, $"Planting: {string.Join(", ", settings.Attacks.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a} {100 * settings.LabFor(a).Planting.PoisonFraction:G3}%")))} of {settings.Lab.Planting.Pairs:N0} pairs poisoned; defended task: {(settings.Lab.DefendedWorld is null ? "the pre-training world" : "drawn from its own world (Lab.DefendedWorld)")}; CleanCLIP pairs: {(pairs is null ? "none (CleanCLIP not run)" : pairs.Count.ToString("N0", CultureInfo.InvariantCulture))}"),
            $"Test: {test.Count} images, validation: {validation.Count} images (selection only), shots: {settings.Suite.Shots} per class from a pool of {pool.Count}, seeds: {string.Join(", ", settings.Suite.Seeds)}",
            $"Device: {device.type}, threads: {get_num_threads()}, wall time: {clock.Elapsed.TotalMinutes:F1} min",
        };
        var report = ProgressDisplay.Run(context, "Writing the report", _ => LabDemoReport.Write(outputDirectory, "RVPT on the synthetic world: ASR% (CA%)", outcomes, settingsLines));
        LabDemoSummary.Print(context, report, outcomes, outputDirectory, clock.Elapsed);
        return ExitCodes.Success;
    }
}
