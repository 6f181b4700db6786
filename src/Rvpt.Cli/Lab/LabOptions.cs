using System.CommandLine;
using System.Globalization;
using Rvpt.Backdoor.Lab;

namespace Rvpt.Cli.Lab;

/// <summary>
/// The options every <c>rvpt lab</c> command takes: the model cache, the world (the demo's default preset's, or
/// <c>--quick</c>'s or <c>--small-world</c>'s), the device, and the planting recipe (poison fraction, learning rate,
/// epochs, objective) for calibrating the lab (docs/results.md, gates A and B).
/// </summary>
internal sealed class LabOptions
{
    public Option<string?> Cache { get; } = new("--cache") { Description = "Model cache folder (default $RVPT_CACHE, else ~/.cache/rvpt); the lab uses its synthetic/ sub-folder." };
    public Option<bool> Quick { get; } = new("--quick") { Description = "Small, fast settings (a smoke test: the models are barely trained, the numbers mean nothing)." };
    public Option<bool> SmallWorld { get; } = new("--small-world") { Description = LabDemoCommand.SmallWorldHelp };
    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    public Option<double?> PoisonFraction { get; } = new("--poison-fraction") { Description = "Fraction of the attacker's pairs poisoned, in (0, 1) (default 0.1; BadCLIP 0.05 in the default and --calibrated presets)." };
    public Option<double?> PlantingLearningRate { get; } = new("--planting-lr") { Description = "Peak AdamW learning rate of the poisoned fine-tuning (default 5e-4)." };
    public Option<int?> PlantingEpochs { get; } = new("--planting-epochs") { Description = "Epochs of the poisoned fine-tuning (default 2)." };
    public Option<double?> PlantingLabelWeight { get; } = new("--planting-label-weight") { Description = "Weight of the label-text term while planting; 0 = CLIP's caption-only contrastive loss, the paper's attacker (default 1, the clean model's own objective)." };

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Cache, Quick, SmallWorld, Device, PoisonFraction, PlantingLearningRate, PlantingEpochs, PlantingLabelWeight })
            c.Add(o);
    }

    /// <summary>The lab's model store: the <c>synthetic/</c> sub-folder of <c>--cache</c> or of the default cache.</summary>
    public SyntheticModelStore Store(ParseResult parse, CliContext context) =>
        new(Path.Combine(parse.GetValue(Cache) ?? SyntheticModelStore.DefaultRoot(), "synthetic"), context.Logger);

    /// <summary>The lab of the preset the flags name, with <paramref name="attack"/>'s poison fraction if it plants one.</summary>
    public SyntheticBackdoorLab Open(ParseResult parse, CliContext context, SyntheticAttack? attack = null) =>
        new(Store(parse, context), LabFor(parse, attack), context.Logger);

    /// <summary>
    /// The lab options <c>rvpt lab build</c> and <c>plant</c> use: the preset's (<see cref="LabDemoSettings.Default"/>
    /// unless <c>--quick</c> or <c>--small-world</c>), so they build and plant the very models <c>rvpt lab demo</c>
    /// loads; with <paramref name="attack"/>, its own poison fraction; then the planting options given.
    /// </summary>
    public SyntheticLabOptions LabFor(ParseResult parse, SyntheticAttack? attack)
    {
        var preset = Preset(parse.GetValue(Quick), calibrated: false, parse.GetValue(SmallWorld));
        return Apply(parse, attack is { } a ? preset.LabFor(a) : preset.Lab);
    }

    /// <summary>The settings of the preset the flags name; at most one may be set.</summary>
    public static LabDemoSettings Preset(bool quick, bool calibrated, bool smallWorld) =>
        (quick, calibrated, smallWorld) switch
        {
            (false, false, false) => LabDemoSettings.Default,
            (true, false, false) => LabDemoSettings.Quick,
            (false, true, false) => LabDemoSettings.Calibrated,
            (false, false, true) => LabDemoSettings.SmallWorld,
            _ => throw new CliInputException("--quick, --calibrated and --small-world are presets; pass at most one."),
        };

    /// <summary>
    /// <paramref name="options"/> with the planting options given on the command line; each planted model is cached
    /// under its own recipe, so a lighter planting never overwrites the default's.
    /// </summary>
    public SyntheticLabOptions Apply(ParseResult parse, SyntheticLabOptions options)
    {
        var planting = options.Planting;
        if (parse.GetValue(PoisonFraction) is { } fraction)
            planting = planting with
            {
                PoisonFraction = fraction > 0 && fraction < 1 ? fraction : throw new CliInputException($"--poison-fraction must be in (0, 1); got {Text(fraction)}."),
            };
        var training = planting.Training;
        if (parse.GetValue(PlantingLearningRate) is { } lr) training = training with { LearningRate = CliChecks.PositiveFinite(lr, "--planting-lr") };
        if (parse.GetValue(PlantingEpochs) is { } epochs) training = training with { Epochs = CliChecks.Positive(epochs, "--planting-epochs") };
        if (parse.GetValue(PlantingLabelWeight) is { } weight)
            training = training with
            {
                ClassPromptWeight = weight >= 0 && double.IsFinite(weight) ? weight : throw new CliInputException($"--planting-label-weight must be finite and >= 0; got {Text(weight)}."),
            };
        return options with { Planting = planting with { Training = training } };
    }

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
