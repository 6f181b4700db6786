using System.CommandLine;
using System.Globalization;

namespace Rvpt.Cli.Lab;

/// <summary>
/// The command line of <c>samples/Rvpt.Demo</c>, the README's main command. It keeps the demo's documented options
/// and defaults (docs/demo.md) and runs the tool's code: the synthetic world is <c>rvpt lab demo</c>, a real model
/// (<c>--model</c>) is <c>rvpt suite</c>, with the demo's flags translated (<c>--attack</c> to <c>--trigger</c>,
/// <c>--prompt-depth</c>/<c>--prompt-tokens</c> to <c>--depth</c>/<c>--tokens</c>). Exit codes are the tool's.
/// </summary>
public static class DemoCli
{
    /// <summary>Runs the demo with <paramref name="args"/> on the console; Ctrl+C stops after the current step.</summary>
    /// <returns>The exit code: 0 done, 2 bad input, 1 failure, 130 cancelled.</returns>
    public static Task<int> RunAsync(string[] args) =>
        ConsoleCancellation.RunAsync(cancellationToken => RunAsync(args, Console.Out, Console.Error, cancellationToken));

    /// <summary>Runs the demo with its own output writers (the tests run it in process).</summary>
    internal static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var o = new DemoOptions();
        var root = new RootCommand("Repulsive Visual Prompt Tuning demo: plants backdoors in a CLIP, runs the defences, reports ASR% (CA%). " +
            "The same code as `rvpt lab demo` (the synthetic world) and `rvpt suite` (a real model, --model).");
        o.AddTo(root);
        root.SetAction((parse, token) =>
        {
            List<string> tool;
            try
            {
                tool = o.ToToolArguments(parse);
            }
            catch (CliInputException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Task.FromResult(ExitCodes.BadInput);
            }
            if (tool[0] == "suite") stderr.WriteLine($"A real model: running `rvpt {ShellWords.Join(tool)}`.");
            return RvptCli.RunAsync(tool.ToArray(), stdout, stderr, token);
        });
        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };
        return root.Parse(args).InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>The demo's options, as docs/demo.md documents them.</summary>
    private sealed class DemoOptions
    {
        private readonly Option<bool> _quick = new("--quick") { Description = "Smoke-test preset: every phase in about a minute; the numbers mean nothing." };
        private readonly Option<bool> _calibrated = new("--calibrated") { Description = LabDemoCommand.CalibratedHelp };
        private readonly Option<bool> _smallWorld = new("--small-world") { Description = LabDemoCommand.SmallWorldHelp };
        private readonly Option<string?> _seeds = new("--seeds") { Description = "Few-shot seeds, comma-separated (default 1). docs/results.md uses 1,2,3." };
        private readonly Option<string?> _attacks = new("--attacks") { Description = $"Synthetic attacks to plant and defend, comma-separated (default: the preset's, badclip by default; {LabDemoCommand.AttackHelp})." };
        private readonly Option<string> _output = new("--out") { Description = "Output folder of the report and charts.", DefaultValueFactory = _ => LabDemoCommand.DefaultOutput };
        private readonly Option<string?> _cache = new("--cache") { Description = "Model cache folder (default $RVPT_CACHE, else ~/.cache/rvpt)." };
        private readonly Option<string> _device = new("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        private readonly Option<int> _threads = new("--threads") { Description = "Torch intra-op threads (0 = the library default).", DefaultValueFactory = _ => 0 };
        private readonly Option<bool> _verbose = new("--verbose") { Description = "Log every epoch and selection trial." };
        private readonly Option<string?> _model = new("--model") { Description = "A real CLIP checkpoint (OpenAI/OpenCLIP .safetensors/.pt, HF folder or file) to defend instead of the synthetic world; runs `rvpt suite`." };
        private readonly Option<string?> _tokenizer = new("--tokenizer") { Description = "Folder with vocab.json and merges.txt when they are not beside --model." };
        private readonly Option<string?> _train = new("--train") { Description = "ImageFolder of clean labelled training images (one sub-folder per class); a fifth is held out for validation." };
        private readonly Option<string?> _test = new("--test") { Description = "ImageFolder of test images with the same class folders." };
        private readonly Option<string?> _classes = new("--classes") { Description = "File with one class name per line, in sorted folder order (default: folder names)." };
        private readonly Option<string?> _attack = new("--attack") { Description = $"The attack the model carries: {TriggerSpec.Help}." };
        private readonly Option<string?> _target = new("--target") { Description = "The attack's target class name." };
        private readonly Option<int> _shots = new("--shots") { Description = "Shots per class (default 16 with --model, checked against --train before anything trains; in the synthetic world the preset's, 256 by default, and the defender's pool grows with it).", DefaultValueFactory = _ => 16 };
        private readonly Option<int> _epochs = new("--epochs") { Description = "Prompt-tuning epochs.", DefaultValueFactory = _ => 50 };
        private readonly Option<int?> _depth = new("--prompt-depth") { Description = "Unprompted depth D (with --model the paper's 3/12 of the blocks, D = 3 on ViT-B/32). " + LabDemoCommand.DepthHelp };
        private readonly Option<int?> _tokens = new("--prompt-tokens") { Description = "Prompt tokens per block b (with --model the paper's 50 per 49 patches, capped at 50). " + LabDemoCommand.TokensHelp };
        private readonly Option<double?> _alpha = new("--alpha") { Description = "RVPT's repelling weight alpha (default 2, the paper's)." };
        private readonly Option<string?> _defences = new("--defences") { Description = $"Defences, comma-separated: {SuiteOptions.DefenceHelp} (default {SuiteOptions.DefaultDefences} with --model; in the synthetic world the preset's, {LabDemoCommand.DefaultDefences} by default)." };

        public void AddTo(RootCommand root)
        {
            _device.AcceptOnlyFromAmong("cpu", "cuda");
            foreach (var option in new Option[]
                     {
                         _quick, _calibrated, _smallWorld, _seeds, _attacks, _output, _cache, _device, _threads, _verbose, _model, _tokenizer, _train, _test, _classes, _attack,
                         _target, _shots, _epochs, _depth, _tokens, _alpha, _defences,
                     })
                root.Add(option);
        }

        /// <summary>The <c>rvpt</c> arguments that run what <paramref name="parse"/> asks for.</summary>
        public List<string> ToToolArguments(ParseResult parse)
        {
            static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
            var common = new List<string>();
            if (parse.GetValue(_seeds) is { } seeds) common.AddRange(["--seeds", seeds]);
            if (parse.GetValue(_depth) is { } depth) common.AddRange(["--depth", Text(depth)]);
            if (parse.GetValue(_tokens) is { } tokens) common.AddRange(["--tokens", Text(tokens)]);
            if (parse.GetValue(_alpha) is { } alpha) common.AddRange(["--alpha", alpha.ToString("R", CultureInfo.InvariantCulture)]);
            if (parse.GetValue(_defences) is { } defences) common.AddRange(["--defences", defences]);
            common.AddRange(["--device", parse.GetValue(_device)!, "--out", parse.GetValue(_output)!]);
            if (parse.GetValue(_threads) is var threads and not 0) common.AddRange(["--threads", Text(threads)]);
            if (parse.GetValue(_verbose)) common.Add("--verbose");

            if (parse.GetValue(_model) is { } model)
            {
                foreach (var (option, name) in new (Option, string)[] { (_quick, "--quick"), (_calibrated, "--calibrated"), (_smallWorld, "--small-world"), (_attacks, "--attacks"), (_cache, "--cache") })
                    if (parse.GetResult(option) is { Implicit: false })
                        throw new CliInputException($"{name} applies to the synthetic world; a real model (--model) takes --attack, --shots and --epochs.");
                var suite = new List<string> { "suite", "--model", model };
                if (parse.GetValue(_tokenizer) is { } tokenizer) suite.AddRange(["--tokenizer", tokenizer]);
                suite.AddRange(["--train", Require(parse, _train), "--test", Require(parse, _test)]);
                if (parse.GetValue(_classes) is { } classes) suite.AddRange(["--classes", classes]);
                suite.AddRange(["--trigger", Require(parse, _attack), "--target", Require(parse, _target),
                    "--shots", Text(parse.GetValue(_shots)), "--epochs", Text(parse.GetValue(_epochs)),
                    // The demo has always measured perturbation resistivity (the suite's default is off).
                    "--resistivity-images", "256"]);
                suite.AddRange(common);
                return suite;
            }
            foreach (var option in new Option[] { _train, _test, _attack, _target, _classes, _tokenizer, _epochs })
                if (parse.GetResult(option) is { Implicit: false })
                    throw new CliInputException($"{option.Name} applies to a real model; pass --model too.");
            var lab = new List<string> { "lab", "demo" };
            if (parse.GetValue(_quick)) lab.Add("--quick");
            if (parse.GetValue(_calibrated)) lab.Add("--calibrated");
            if (parse.GetValue(_smallWorld)) lab.Add("--small-world");
            if (parse.GetValue(_attacks) is { } attacks) lab.AddRange(["--attacks", attacks]);
            if (parse.GetValue(_cache) is { } cache) lab.AddRange(["--cache", cache]);
            if (parse.GetResult(_shots) is { Implicit: false }) lab.AddRange(["--shots", Text(parse.GetValue(_shots))]);
            lab.AddRange(common);
            return lab;
        }

        private static string Require(ParseResult parse, Option<string?> option) =>
            parse.GetValue(option) is { Length: > 0 } value ? value : throw new CliInputException($"{option.Name} is required with --model.");
    }
}
