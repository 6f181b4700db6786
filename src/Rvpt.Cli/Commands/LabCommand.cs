using System.CommandLine;
using System.Text.Json.Nodes;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Cli.Lab;
using Rvpt.Clip;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static TorchSharp.torch;

namespace Rvpt.Cli.Commands;

/// <summary>
/// <c>rvpt lab</c>: the synthetic world of <see cref="SyntheticBackdoorLab"/> from the shell: build (or load from the
/// model cache) the clean tiny CLIP, plant a backdoor, and export either as a checkpoint plus image folders, so the
/// other commands (defend, evaluate, suite) run on it; <c>rvpt lab demo</c> (<see cref="LabDemoCommand"/>) is the
/// demo's whole table.
/// </summary>
internal static class LabCommand
{
    public static Command Create(GlobalOptions global)
    {
        var lab = new Command("lab", "The synthetic world: build the clean tiny CLIP, plant backdoors, export them for the other commands, run the demo's table.");
        lab.Add(Build(global));
        lab.Add(Plant(global));
        lab.Add(LabDemoCommand.Create(global));
        return lab;
    }

    private static Command Build(GlobalOptions global)
    {
        var options = new LabOptions();
        var export = new Option<string?>("--export") { Description = "Also write the clean model as a checkpoint (OUT.safetensors, OpenAI layout)." };
        var command = new Command("build", "Pre-train the clean tiny CLIP of the synthetic world (or load it from the cache): the demo's default world, the calibrated one, unless --quick or --small-world.");
        options.AddTo(command);
        command.Add(export);
        RvptCli.SetWork(command, global, (parse, context, ct) =>
        {
            var device = ModelOptions.ParseDevice(parse.GetValue(options.Device)!);
            var target = parse.GetValue(export);
            if (target is not null && !target.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new CliInputException($"--export '{target}': name the checkpoint *.safetensors.");
            var world = options.Open(parse, context);
            using var clean = GetClean(world, device, context, ct);
            if (target is not null) Export(world, clean, target);
            Report(context, new JsonObject { ["model"] = "clean", ["cache"] = world.Store.Root, ["export"] = target, ["parameters"] = clean.Config.ParameterCount });
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Plant(GlobalOptions global)
    {
        var options = new LabOptions();
        var attack = new Option<string>("--attack") { Description = "badnets, blended, wanet or badclip.", Required = true };
        var export = new Option<string?>("--export") { Description = "Folder for model.safetensors (the backdoored model) and train/, val/, test/ image folders of the defended classes." };
        var images = new Option<int>("--images") { Description = "Images per exported split.", DefaultValueFactory = _ => 96 };
        var command = new Command("plant", "Plant a backdoor into the clean tiny CLIP by poisoned fine-tuning (or load it from the cache), with the preset's poison fraction: the model the demo with the same flags loads.");
        options.AddTo(command);
        foreach (var o in new Option[] { attack, export, images }) command.Add(o);
        RvptCli.SetWork(command, global, (parse, context, ct) =>
        {
            var device = ModelOptions.ParseDevice(parse.GetValue(options.Device)!);
            var kind = Enum.TryParse<SyntheticAttack>(parse.GetValue(attack), ignoreCase: true, out var a) && Enum.IsDefined(a)
                ? a : throw new CliInputException($"--attack '{parse.GetValue(attack)}' is not a lab attack; expected badnets, blended, wanet or badclip.");
            int count = CliChecks.Positive(parse.GetValue(images), "--images");
            var folder = parse.GetValue(export);
            var world = options.Open(parse, context, kind); // the preset's poison fraction for this attack (BadCLIP 5% by default)
            using var clean = GetClean(world, device, context, ct);
            using var planted = ProgressDisplay.Run(context, world.HasPlantedModel(kind) ? $"Loading the {kind} model" : $"Planting {kind}", report =>
                world.GetPlantedModel(kind, clean, device, new InlineProgress<SyntheticLabProgress>(p => report((double)p.Step / p.TotalSteps, $"{p.Phase} {p.Step}/{p.TotalSteps}")), ct));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
                Export(world, planted.Model, Path.Combine(folder, "model.safetensors"));
                using (var train = world.DefenderPool(count)) WriteFolder(train, Path.Combine(folder, "train"));
                using (var val = world.ValidationSet(count)) WriteFolder(val, Path.Combine(folder, "val"));
                using (var test = world.TestSet(count)) WriteFolder(test, Path.Combine(folder, "test"));
            }
            Report(context, new JsonObject
            {
                ["model"] = kind.ToString(), ["trigger"] = planted.Trigger.Name, ["target"] = world.Options.TargetClass, ["cache"] = planted.Path, ["export"] = folder,
            });
            return ExitCodes.Success;
        });
        return command;
    }

    private static ClipModel GetClean(SyntheticBackdoorLab world, Device device, CliContext context, CancellationToken ct) =>
        ProgressDisplay.Run(context, world.HasCleanModel ? "Loading the clean CLIP" : "Pre-training the clean CLIP", report =>
            world.GetCleanModel(device, new InlineProgress<SyntheticLabProgress>(p => report((double)p.Step / p.TotalSteps, $"step {p.Step}/{p.TotalSteps}, loss {p.Loss:F3}")), ct));

    /// <summary>Writes the model as a checkpoint with the world's tokenizer (vocab.json, merges.txt) beside it.</summary>
    private static void Export(SyntheticBackdoorLab world, ClipModel model, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        ClipCheckpoint.Save(model, path);
        SyntheticClip.CreateTokenizer(world.World, directory);
    }

    /// <summary>Writes a labelled set as an image folder (one sub-folder per class, PNG files).</summary>
    internal static void WriteFolder(ILabeledImageSource data, string root)
    {
        for (int i = 0; i < data.Count; i++)
        {
            var dir = Path.Combine(root, data.ClassNames[data.GetLabel(i)]);
            Directory.CreateDirectory(dir);
            using var scope = NewDisposeScope();
            var pixels01 = data.LoadPixels01(i);
            var bytes = (pixels01.clamp(0, 1) * 255).round().to(ScalarType.Byte).permute(1, 2, 0).contiguous().data<byte>().ToArray();
            int h = (int)pixels01.shape[1], w = (int)pixels01.shape[2];
            using var image = Image.LoadPixelData<Rgb24>(bytes, w, h);
            image.SaveAsPng(Path.Combine(dir, $"{i:D5}.png"));
        }
    }

    private static void Report(CliContext context, JsonObject json)
    {
        if (context.Json) context.WriteJson(json.ToJsonString(JsonOutput.Indented));
        else context.Result(string.Join("\n", json.Where(p => p.Value is not null).Select(p => $"{p.Key}: {p.Value}")) + "\n");
    }
}
