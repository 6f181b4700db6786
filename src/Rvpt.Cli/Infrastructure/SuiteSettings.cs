using System.CommandLine;
using System.Globalization;
using Rvpt.Backdoor;

namespace Rvpt.Cli;

/// <summary>The settings of one <c>rvpt suite</c> run (also what <c>rvpt sweep plan</c> writes into each job).</summary>
internal sealed record SuiteSettings
{
    public required string Model { get; init; }
    public string? Tokenizer { get; init; }
    public string Device { get; init; } = "cpu";
    public string DType { get; init; } = "float32";
    public required string Train { get; init; }
    public string? Val { get; init; }
    public double ValFraction { get; init; } = 0.2;
    public int SplitSeed { get; init; }
    public required string Test { get; init; }
    public string? Classes { get; init; }
    public required string Trigger { get; init; }
    public required string Target { get; init; }
    public required IReadOnlyList<DefenceKind> Defences { get; init; }
    public required IReadOnlyList<long> Seeds { get; init; }
    public int Shots { get; init; } = 16;
    public int Epochs { get; init; } = 50;
    public int? Depth { get; init; }
    public int? Tokens { get; init; }
    public double Alpha { get; init; } = 2.0;
    public IReadOnlyList<double> LearningRates { get; init; } = [0.002, 0.02, 0.2];
    public int Batch { get; init; } = 32;
    public bool Augment { get; init; } = true;
    public string Templates { get; init; } = "photo";
    public int Resistivity { get; init; }
    public required string Out { get; init; }
}

/// <summary>The options of <c>rvpt suite</c> (shared with <c>rvpt sweep plan</c>) and their translation to <see cref="SuiteSettings"/> and back.</summary>
internal sealed class SuiteOptions
{
    public const string DefenceHelp = "none, vpt, rvpt, probe, cleanclip, finetune, finetune-fr";

    /// <summary>The defences run when <c>--defences</c> is not given (<see cref="DefenceSuiteOptions.Defences"/>' default).</summary>
    public const string DefaultDefences = "none,vpt,probe,cleanclip,rvpt";

    public ModelOptions Model { get; } = new();
    public Option<string> Train { get; } = new("--train") { Description = "Clean labelled training images (the shots are drawn from them), one sub-folder per class.", Required = true };
    public Option<string?> Val { get; } = new("--val") { Description = "Clean validation images for choosing each defence's learning rate (default: a seeded --val-fraction of --train)." };
    public Option<double> ValFraction { get; } = new("--val-fraction") { Description = "Fraction of each class of --train held out for validation when --val is not given.", DefaultValueFactory = _ => 0.2 };
    public Option<int> SplitSeed { get; } = new("--split-seed") { Description = "Seed of the validation split (the same for every defence and few-shot seed).", DefaultValueFactory = _ => 0 };
    public Option<string> Test { get; } = new("--test") { Description = "Test images with the same class folders.", Required = true };
    public Option<string?> Classes { get; } = new("--classes") { Description = "Class names for the class folders, one per line." };
    public Option<string> Defences { get; } = new("--defences") { Description = $"Comma-separated defences: {DefenceHelp}.", DefaultValueFactory = _ => DefaultDefences };
    public Option<string> Seeds { get; } = new("--seeds") { Description = "Comma-separated few-shot seeds; every trained defence runs once per seed.", DefaultValueFactory = _ => "1" };
    public Option<int> Shots { get; } = new("--shots") { Description = "Training images per class.", DefaultValueFactory = _ => 16 };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Prompt-tuning epochs (VPT, RVPT).", DefaultValueFactory = _ => 50 };
    public Option<int?> Depth { get; } = new("--depth") { Description = "Unprompted depth D (default: the paper's, scaled to the model)." };
    public Option<int?> Tokens { get; } = new("--tokens") { Description = "Prompt tokens per block b (default: the paper's, scaled to the model)." };
    public Option<double> Alpha { get; } = new("--alpha") { Description = "RVPT's repelling weight.", DefaultValueFactory = _ => 2.0 };
    public Option<string> LearningRates { get; } = new("--lr-candidates") { Description = "Learning rates tried by VPT and RVPT, chosen by clean validation accuracy.", DefaultValueFactory = _ => "0.002,0.02,0.2" };
    public Option<int> Batch { get; } = new("--batch") { Description = "Images per prompt-tuning step.", DefaultValueFactory = _ => 32 };
    public Option<bool> Augment { get; } = new("--augment") { Description = "CoOp augmentation in prompt tuning; --augment false turns it off.", DefaultValueFactory = _ => true };
    public Option<string> Templates { get; } = new("--templates") { Description = "photo, imagenet or a template file.", DefaultValueFactory = _ => "photo" };
    public Option<int> Resistivity { get; } = new("--resistivity-images") { Description = "Test images on which perturbation resistivity is measured (0: not measured).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command, bool withTrigger)
    {
        Model.AddTo(command);
        foreach (var o in new Option[] { Train, Val, ValFraction, SplitSeed, Test, Classes, Defences, Seeds, Shots, Epochs, Depth, Tokens, Alpha, LearningRates, Batch, Augment, Templates, Resistivity })
            command.Add(o);
    }

    /// <summary>Reads and checks the options (paths, numbers, names); trigger, target and output come from the command.</summary>
    public SuiteSettings Read(ParseResult parse, string trigger, string target, string output)
    {
        var model = parse.GetValue(Model.Model)!;
        CliChecks.PathExists(model, "--model", "a CLIP checkpoint file or model folder");
        ModelOptions.ParseDevice(parse.GetValue(Model.Device)!);
        ModelOptions.ParseDType(parse.GetValue(Model.DType)!, "--dtype");
        var settings = new SuiteSettings
        {
            Model = model,
            Tokenizer = parse.GetValue(Model.Tokenizer),
            Device = parse.GetValue(Model.Device)!,
            DType = parse.GetValue(Model.DType)!,
            Train = parse.GetValue(Train)!,
            Val = parse.GetValue(Val),
            ValFraction = parse.GetValue(ValFraction),
            SplitSeed = parse.GetValue(SplitSeed),
            Test = parse.GetValue(Test)!,
            Classes = parse.GetValue(Classes),
            Trigger = trigger,
            Target = target,
            Defences = ParseDefences(parse.GetValue(Defences)!),
            Seeds = CliChecks.SeedList(parse.GetValue(Seeds)!, "--seeds").Order().ToArray(),
            Shots = CliChecks.Positive(parse.GetValue(Shots), "--shots"),
            Epochs = CliChecks.Positive(parse.GetValue(Epochs), "--epochs"),
            Depth = parse.GetValue(Depth) is { } d ? CliChecks.NonNegative(d, "--depth") : null,
            Tokens = parse.GetValue(Tokens) is { } b ? CliChecks.Positive(b, "--tokens") : null,
            Alpha = parse.GetValue(Alpha) is var a && a >= 0 && double.IsFinite(a) ? a : throw new CliInputException($"--alpha must be finite and >= 0; got {a}."),
            LearningRates = CliChecks.RateList(parse.GetValue(LearningRates)!, "--lr-candidates"),
            Batch = CliChecks.Positive(parse.GetValue(Batch), "--batch"),
            Augment = parse.GetValue(Augment),
            Templates = parse.GetValue(Templates)!,
            Resistivity = CliChecks.NonNegative(parse.GetValue(Resistivity), "--resistivity-images"),
            Out = output,
        };
        if (settings.Tokenizer is not null) CliChecks.DirectoryExists(settings.Tokenizer, "--tokenizer", "a folder with vocab.json and merges.txt");
        CliChecks.DirectoryExists(settings.Train, "--train", "a folder with one sub-folder of images per class");
        CliChecks.DirectoryExists(settings.Test, "--test", "a folder with one sub-folder of images per class");
        if (settings.Val is not null) CliChecks.DirectoryExists(settings.Val, "--val", "a folder with one sub-folder of images per class");
        if (settings.Classes is not null) CliChecks.FileExists(settings.Classes, "--classes", "a file with one class name per line");
        CliChecks.Templates(settings.Templates);
        return settings;
    }

    /// <summary>The <c>rvpt suite</c> arguments that reproduce <paramref name="s"/> (every setting explicit).</summary>
    public static List<string> ToArguments(SuiteSettings s)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var args = new List<string> { "suite", "--model", s.Model };
        if (s.Tokenizer is not null) args.AddRange(["--tokenizer", s.Tokenizer]);
        args.AddRange(["--device", s.Device, "--dtype", s.DType, "--train", s.Train]);
        if (s.Val is not null) args.AddRange(["--val", s.Val]);
        else args.AddRange(["--val-fraction", F(s.ValFraction), "--split-seed", s.SplitSeed.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["--test", s.Test]);
        if (s.Classes is not null) args.AddRange(["--classes", s.Classes]);
        args.AddRange(["--trigger", s.Trigger, "--target", s.Target,
            "--defences", string.Join(",", s.Defences.Select(Name)), "--seeds", string.Join(",", s.Seeds),
            "--shots", s.Shots.ToString(CultureInfo.InvariantCulture), "--epochs", s.Epochs.ToString(CultureInfo.InvariantCulture)]);
        if (s.Depth is { } d) args.AddRange(["--depth", d.ToString(CultureInfo.InvariantCulture)]);
        if (s.Tokens is { } b) args.AddRange(["--tokens", b.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["--alpha", F(s.Alpha), "--lr-candidates", string.Join(",", s.LearningRates.Select(F)),
            "--batch", s.Batch.ToString(CultureInfo.InvariantCulture), "--augment", s.Augment ? "true" : "false", "--templates", s.Templates,
            "--resistivity-images", s.Resistivity.ToString(CultureInfo.InvariantCulture), "--out", s.Out]);
        return args;
    }

    /// <summary>Defence names, in <see cref="DefenceKind"/> order (the order of the report), without repeats.</summary>
    public static IReadOnlyList<DefenceKind> ParseDefences(string text)
    {
        var result = new List<DefenceKind>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kind = part.ToLowerInvariant() switch
            {
                "none" => DefenceKind.None,
                "vpt" => DefenceKind.PlainVpt,
                "rvpt" => DefenceKind.Rvpt,
                "probe" or "linear-probe" => DefenceKind.LinearProbe,
                "cleanclip" => DefenceKind.CleanClip,
                "finetune" or "fine-tuning" => DefenceKind.FullFineTuning,
                "finetune-fr" => DefenceKind.RepulsiveFineTuning,
                _ => throw new CliInputException($"--defences: '{part}' is not a defence; expected {DefenceHelp}."),
            };
            if (!result.Contains(kind)) result.Add(kind);
        }
        return result.Count > 0 ? result.Order().ToArray() : throw new CliInputException($"--defences needs at least one of {DefenceHelp}.");
    }

    public static string Name(DefenceKind kind) => kind switch
    {
        DefenceKind.None => "none",
        DefenceKind.PlainVpt => "vpt",
        DefenceKind.Rvpt => "rvpt",
        DefenceKind.LinearProbe => "probe",
        DefenceKind.CleanClip => "cleanclip",
        DefenceKind.FullFineTuning => "finetune",
        DefenceKind.RepulsiveFineTuning => "finetune-fr",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown defence."),
    };
}
