using System.CommandLine;
using Rvpt.Backdoor.Lab;

namespace Rvpt.Cli.Lab;

/// <summary>
/// <c>rvpt lab demo</c>: the demo's whole table on the synthetic world (<see cref="LabDemo"/>). <c>samples/Rvpt.Demo</c>
/// is a thin caller of this command (<see cref="DemoCli"/>).
/// </summary>
internal static class LabDemoCommand
{
    public const string AttackHelp = "badnets, blended, wanet, badclip or issba";

    /// <summary>The default preset's defences as <c>--defences</c> spells them (a test checks they are <see cref="LabDemoSettings.Default"/>'s).</summary>
    public const string DefaultDefences = "none,vpt,probe,rvpt";

    public static Command Create(GlobalOptions global)
    {
        var lab = new LabOptions();
        var seeds = new Option<string?>("--seeds") { Description = "Few-shot seeds, comma-separated (default 1). docs/results.md uses 1,2,3." };
        var attacks = new Option<string?>("--attacks") { Description = $"Synthetic attacks to plant and defend, comma-separated (default: the preset's, badclip by default; one of {AttackHelp})." };
        var output = new Option<string>("--out", "-o") { Description = "Output folder of the report and charts.", DefaultValueFactory = _ => DefaultOutput };
        var depth = new Option<int?>("--depth") { Description = DepthHelp };
        var tokens = new Option<int?>("--tokens") { Description = TokensHelp };
        var alpha = new Option<double?>("--alpha") { Description = "RVPT's repelling weight alpha (default 2, the paper's)." };
        var shots = new Option<int?>("--shots") { Description = "Shots per class of every few-shot defence (default: the preset's, 256 by default, 16 (the paper's) with --small-world; the defender's pool grows in proportion: 48 images per shot)." };
        var calibrated = new Option<bool>("--calibrated") { Description = CalibratedHelp };
        var defences = new Option<string?>("--defences") { Description = $"Defences, comma-separated: {SuiteOptions.DefenceHelp} (default: the preset's, {DefaultDefences} by default; none always runs: the planting gate reads it)." };
        var command = new Command("demo", "The demo's table: build the clean tiny CLIP, plant the preset's attacks, run its defences against each; report ASR% (CA%).");
        lab.AddTo(command);
        foreach (var o in new Option[] { calibrated, seeds, attacks, output, depth, tokens, alpha, shots, defences }) command.Add(o);
        RvptCli.SetWork(command, global, (parse, context, ct) =>
        {
            var device = ModelOptions.ParseDevice(parse.GetValue(lab.Device)!);
            var settings = LabOptions.Preset(parse.GetValue(lab.Quick), parse.GetValue(calibrated), parse.GetValue(lab.SmallWorld));
            settings = settings with { Lab = lab.Apply(parse, settings.Lab) };
            // A poison fraction on the command line is every attack's, the preset's per-attack fractions included.
            if (parse.GetValue(lab.PoisonFraction) is not null) settings = settings with { PoisonFractions = new Dictionary<SyntheticAttack, double>() };
            if (parse.GetValue(seeds) is { } seedText)
                settings = settings with { Suite = settings.Suite with { Seeds = CliChecks.SeedList(seedText, "--seeds") } };
            if (parse.GetValue(alpha) is { } a)
                settings = settings with { Suite = settings.Suite with { Alpha = a >= 0 && double.IsFinite(a) ? a : throw new CliInputException($"--alpha must be finite and >= 0; got {a}.") } };
            if (parse.GetValue(shots) is { } k) settings = settings.WithShots(CliChecks.Positive(k, "--shots"));
            if (parse.GetValue(attacks) is { } attackText) settings = settings with { Attacks = ParseAttacks(attackText) };
            if (parse.GetValue(defences) is { } defenceText)
                settings = settings with { Suite = settings.Suite with { Defences = SuiteOptions.ParseDefences("none," + defenceText) } };
            var prompts = new PromptOverride(
                parse.GetValue(depth) is { } d ? CliChecks.NonNegative(d, "--depth") : null,
                parse.GetValue(tokens) is { } b ? CliChecks.Positive(b, "--tokens") : null);
            var outputDirectory = Path.GetFullPath(parse.GetValue(output)!);
            return new LabDemo(settings, prompts, context, outputDirectory, lab.Store(parse, context), device).Run(ct);
        });
        return command;
    }

    /// <summary>The help text of <c>--calibrated</c>, shared with the demo's command line.</summary>
    public const string CalibratedHelp =
        "The whole table of the calibrated world (docs/results.md), the one that passes gates A, B and C and that the default cuts to BadCLIP and four " +
        "defences: BadNets, Blended and BadCLIP, all seven defences, CleanCLIP on 12,000 pairs; over an hour on 2 CPU cores.";

    /// <summary>The help text of <c>--small-world</c>, shared with the demo's command line.</summary>
    public const string SmallWorldHelp =
        "The demo's earlier default: the lab's first world (a 1.3M-parameter model defended on its pre-training classes, 16 shots, " +
        "BadNets, Blended, WaNet and BadCLIP, five defences), which fails the paper's premise (gate C); about 13 minutes cold.";

    /// <summary>The help text of <c>--depth</c>, shared with the demo's <c>--prompt-depth</c>.</summary>
    public const string DepthHelp =
        "Unprompted depth D (default: the preset's, D = 3 of 6 blocks by default; with --small-world the paper's 3/12 of the blocks, 1).";

    /// <summary>The help text of <c>--tokens</c>, shared with the demo's <c>--prompt-tokens</c>.</summary>
    public const string TokensHelp =
        "Prompt tokens per block b (default: the preset's, 4 by default; with --small-world the paper's 50 per 49 patches, 16).";

    /// <summary>The default output folder, <c>artifacts/demo</c> (relative to the working directory).</summary>
    public static string DefaultOutput => Path.Combine("artifacts", "demo");

    private static IReadOnlyList<SyntheticAttack> ParseAttacks(string text)
    {
        var result = new List<SyntheticAttack>();
        foreach (var p in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            result.Add(Enum.TryParse<SyntheticAttack>(p, ignoreCase: true, out var a) && Enum.IsDefined(a)
                ? a : throw new CliInputException($"--attacks: unknown attack '{p}'; expected {AttackHelp}."));
        return result.Count > 0 ? result : throw new CliInputException($"--attacks needs at least one of {AttackHelp}.");
    }
}
