// The README's main command: the whole RVPT defence, end to end, on nothing but this repository.
//
//   dotnet run --project samples/Rvpt.Demo -c Release              # the synthetic world: build, plant, defend, report
//   dotnet run --project samples/Rvpt.Demo -c Release -- --quick   # a one-minute smoke test of every phase
//   dotnet run --project samples/Rvpt.Demo -c Release -- --model clip.safetensors --train train/ --test test/ \
//       --attack badnets --target banana                           # defend a real (backdoored) checkpoint
//
// See docs/demo.md for every option and docs/results.md for the measured table.
using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Rvpt.Backdoor;
using Rvpt.Backdoor.Lab;
using Rvpt.Demo;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

var quick = new Option<bool>("--quick") { Description = "Smoke-test preset: every phase in about a minute; the numbers mean nothing." };
var seeds = new Option<string?>("--seeds") { Description = "Few-shot seeds, comma-separated (default 1). docs/results.md uses 1,2,3." };
var attacks = new Option<string?>("--attacks") { Description = "Synthetic attacks to plant and defend, comma-separated (default badnets,blended,wanet,badclip; issba is optional)." };
var output = new Option<string>("--out") { Description = "Output folder of the report and charts.", DefaultValueFactory = _ => Path.Combine("artifacts", "demo") };
var cache = new Option<string?>("--cache") { Description = "Model cache folder (default $RVPT_CACHE, else ~/.cache/rvpt)." };
var deviceOption = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
deviceOption.AcceptOnlyFromAmong("cpu", "cuda");
var threads = new Option<int>("--threads") { Description = "Torch intra-op threads (0 = the library default).", DefaultValueFactory = _ => 0 };
var verbose = new Option<bool>("--verbose") { Description = "Log every epoch and selection trial." };
var model = new Option<string?>("--model") { Description = "A real CLIP checkpoint (OpenAI/OpenCLIP .safetensors/.pt, HF folder or file) to defend instead of the synthetic world." };
var tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with vocab.json and merges.txt when they are not beside --model." };
var train = new Option<string?>("--train") { Description = "ImageFolder of clean labelled training images (one sub-folder per class)." };
var test = new Option<string?>("--test") { Description = "ImageFolder of test images with the same class folders." };
var classes = new Option<string?>("--classes") { Description = "File with one class name per line, in sorted folder order (default: folder names)." };
var attack = new Option<string?>("--attack") { Description = $"The attack the model carries: {DemoTriggers.Help}." };
var target = new Option<string?>("--target") { Description = "The attack's target class name." };
var shots = new Option<int>("--shots") { Description = "Shots per class.", DefaultValueFactory = _ => 16 };
var epochs = new Option<int>("--epochs") { Description = "Prompt-tuning epochs.", DefaultValueFactory = _ => 50 };
var depth = new Option<int?>("--prompt-depth") { Description = "Unprompted depth D (default: the paper's 3/12 of the blocks, D = 3 on ViT-B/32, 1 on the synthetic model)." };
var tokens = new Option<int?>("--prompt-tokens") { Description = "Prompt tokens per block b (default: the paper's 50 per 49 patches, capped at 50; 16 on the synthetic model)." };
var alpha = new Option<double?>("--alpha") { Description = "RVPT's repelling weight alpha (default 2, the paper's)." };

var root = new RootCommand("Repulsive Visual Prompt Tuning demo: plants backdoors in a CLIP, runs the defences, reports ASR% (CA%).")
{
    quick, seeds, attacks, output, cache, deviceOption, threads, verbose, model, tokenizer, train, test, classes, attack, target, shots, epochs,
    depth, tokens, alpha,
};
root.SetAction((parse, cancellationToken) =>
{
    var console = AnsiConsole.Console;
    var ui = new DemoConsole(console);
    try
    {
        if (parse.GetValue(threads) is > 0 and var n) set_num_threads(n);
        var device = parse.GetValue(deviceOption) == "cuda" ? CUDA : CPU;
        if (device.type == DeviceType.CUDA && !cuda.is_available())
            throw new DemoInputException("--device cuda was given but no CUDA device is available (the CPU backend is referenced; see docs/building.md for TorchBackend=cuda-linux).");
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning));
        var logger = loggerFactory.CreateLogger("Rvpt.Demo");
        var settings = parse.GetValue(quick) ? DemoSettings.Quick : DemoSettings.Default;
        if (parse.GetValue(seeds) is { } seedText) settings = settings with { Suite = settings.Suite with { Seeds = ParseSeeds(seedText) } };
        if (parse.GetValue(alpha) is { } a)
            settings = settings with { Suite = settings.Suite with { Alpha = a >= 0 && double.IsFinite(a) ? a : throw new DemoInputException($"--alpha must be finite and >= 0; got {a}.") } };
        var promptDepth = parse.GetValue(depth);
        var promptTokens = parse.GetValue(tokens);
        if (promptDepth is < 0) throw new DemoInputException($"--prompt-depth must be >= 0; got {promptDepth}.");
        if (promptTokens is < 1) throw new DemoInputException($"--prompt-tokens must be >= 1; got {promptTokens}.");
        var promptOverride = new PromptOverride(promptDepth, promptTokens);
        var outputDirectory = Path.GetFullPath(parse.GetValue(output)!);

        if (parse.GetValue(model) is { } modelPath)
        {
            var real = new RealModelArguments(
                Require(modelPath, "--model", File.Exists(modelPath) || Directory.Exists(modelPath)),
                parse.GetValue(tokenizer),
                Require(parse.GetValue(train), "--train", true),
                Require(parse.GetValue(test), "--test", true),
                parse.GetValue(classes),
                Require(parse.GetValue(attack), "--attack", true),
                Require(parse.GetValue(target), "--target", true),
                Positive(parse.GetValue(shots), "--shots"),
                Positive(parse.GetValue(epochs), "--epochs"),
                settings.Suite.Seeds,
                outputDirectory);
            return Task.FromResult(new RealModelDemo(real, settings, promptOverride, ui, device, logger).Run(cancellationToken));
        }
        foreach (var (option, name) in new (Option<string?>, string)[] { (train, "--train"), (test, "--test"), (attack, "--attack"), (target, "--target"), (classes, "--classes"), (tokenizer, "--tokenizer") })
            if (parse.GetValue(option) is not null) throw new DemoInputException($"{name} applies to a real model; pass --model too.");
        if (parse.GetValue(attacks) is { } attackText) settings = settings with { Attacks = ParseAttacks(attackText) };
        var cacheDirectory = Path.Combine(parse.GetValue(cache) ?? SyntheticModelStore.DefaultRoot(), "synthetic");
        return Task.FromResult(new SyntheticDemo(settings, promptOverride, ui, outputDirectory, cacheDirectory, device, logger).Run(cancellationToken));
    }
    catch (DemoInputException e)
    {
        console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
        return Task.FromResult(2);
    }
    catch (OperationCanceledException)
    {
        console.MarkupLine("[yellow]Cancelled.[/] Models finished so far stay in the cache; rerun to continue from them.");
        return Task.FromResult(130);
    }
    catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException)
    {
        console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
        return Task.FromResult(2);
    }
});
return await root.Parse(args).InvokeAsync();

static string Require(string? value, string name, bool exists)
{
    if (string.IsNullOrWhiteSpace(value)) throw new DemoInputException($"{name} is required with --model.");
    if (!exists) throw new DemoInputException($"{name} '{value}' does not exist.");
    return value;
}

static int Positive(int value, string name) => value >= 1 ? value : throw new DemoInputException($"{name} must be >= 1; got {value}.");

static IReadOnlyList<long> ParseSeeds(string text)
{
    var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    var values = new List<long>();
    foreach (var p in parts)
        values.Add(long.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new DemoInputException($"--seeds: '{p}' is not an integer."));
    return values.Count > 0 ? values : throw new DemoInputException("--seeds needs at least one integer.");
}

static IReadOnlyList<SyntheticAttack> ParseAttacks(string text)
{
    var result = new List<SyntheticAttack>();
    foreach (var p in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        result.Add(Enum.TryParse<SyntheticAttack>(p, ignoreCase: true, out var a) && Enum.IsDefined(a)
            ? a : throw new DemoInputException($"--attacks: unknown attack '{p}'; expected badnets, blended, wanet, badclip or issba."));
    return result.Count > 0 ? result : throw new DemoInputException("--attacks needs at least one attack.");
}
