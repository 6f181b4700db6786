using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Rvpt.Backdoor;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Demo;

/// <summary>
/// The demo on a real (possibly backdoored) checkpoint and real image folders: runs the defences against the given
/// attack's trigger and target class, saves the RVPT prompts and the report.
/// </summary>
internal sealed class RealModelDemo(RealModelArguments args, DemoSettings settings, PromptOverride prompts, DemoConsole ui, Device device, ILogger logger)
{
    public int Run(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var model = ui.Phase($"Loading {args.Model}", _ =>
        {
            var builder = new ClipModelBuilder().FromCheckpoint(args.Model).OnDevice(device).WithLogger(logger);
            if (args.Tokenizer is not null) builder.WithTokenizerDirectory(args.Tokenizer);
            return builder.Build();
        });
        if (model.Tokenizer is null)
            throw new DemoInputException($"The checkpoint '{args.Model}' has no vocab.json and merges.txt beside it; pass --tokenizer <folder with both files>.");

        var folderOptions = new ImageFolderOptions { ClassNamesFile = args.Classes };
        var train = ImageFolderDataset.Open(args.Train, model.ImageProcessor, folderOptions);
        var test = ImageFolderDataset.Open(args.Test, model.ImageProcessor, folderOptions);
        if (!train.ClassNames.SequenceEqual(test.ClassNames))
        {
            var onlyTrain = train.ClassNames.Except(test.ClassNames).ToList();
            var onlyTest = test.ClassNames.Except(train.ClassNames).ToList();
            throw new DemoInputException($"--train '{args.Train}' and --test '{args.Test}' have different classes " +
                $"(only in train: {Preview(onlyTrain)}; only in test: {Preview(onlyTest)}). Both need the same class folders.");
        }
        int target = train.ClassNames.ToList().IndexOf(args.Target);
        if (target < 0)
            throw new DemoInputException($"--target '{args.Target}' is not a class of '{args.Train}' ({Preview(train.ClassNames)}).");
        var trigger = DemoTriggers.Create(args.Attack);

        // A held-out fifth of the training folder (at least one image per class) is the clean validation set for
        // hyper-parameter selection; the shots are drawn from the rest.
        var (pool, validation) = SplitValidation(train, seed: 0);
        ui.Line($"{train.ClassNames.Count} classes; {pool.Count} training images for the shots, {validation.Count} for validation, {test.Count} for testing.");

        var suiteOptions = settings.Suite with
        {
            Shots = args.Shots,
            Seeds = args.Seeds,
            PromptTraining = settings.Suite.PromptTraining with { Epochs = args.Epochs, Augment = new TrainingOptions().Augment }, // real images keep the paper's augmentation
            PromptOutputDirectory = Path.Combine(args.Output, "prompts"),
            Prompts = prompts.Apply(model.Config.Vision, settings.Suite.Prompts),
        };
        var suite = new DefenceSuite(suiteOptions, logger);
        var result = ui.Phase($"Defending against {trigger.Name}", report =>
            suite.Run(new DefenceSuiteRequest(model, pool, validation, test)
                {
                    Attack = trigger.Name, Trigger = trigger, TargetClass = target, CleanPairs = new LabelCaptionSource(pool),
                },
                new InlineProgress<DefenceSuiteProgress>(p => report(p.Fraction, p.Phase)), cancellationToken));
        var outcome = new DemoOutcome(trigger.Name, null, result, null, "not judged (a given model)");
        var report = DemoReportWriter.Write(args.Output, $"RVPT on {Path.GetFileName(args.Model)}: ASR% (CA%)", [outcome],
        [
            $"Model: {args.Model}; train: {args.Train}; test: {args.Test}; attack: {args.Attack}; target: {args.Target}",
            $"Shots: {args.Shots} per class; prompt epochs: {args.Epochs}; seeds: {string.Join(", ", args.Seeds)}; device: {device.type}",
        ]);
        DemoSummary.Print(ui, report, [outcome], args.Output, clock.Elapsed);
        ui.Line($"RVPT prompt checkpoints: {Path.GetFullPath(suiteOptions.PromptOutputDirectory)}");
        return 0;
    }

    private static (SubsetSource Pool, SubsetSource Validation) SplitValidation(ILabeledImageSource data, int seed)
    {
        var random = new Random(seed);
        var pool = new List<int>();
        var validation = new List<int>();
        foreach (var group in Enumerable.Range(0, data.Count).GroupBy(data.GetLabel))
        {
            var indices = group.ToArray();
            random.Shuffle(indices);
            int held = Math.Max(1, indices.Length / 5);
            if (indices.Length < 2)
                throw new DemoInputException($"Class '{data.ClassNames[group.Key]}' has {indices.Length} training image(s); at least 2 are needed (shots + validation).");
            validation.AddRange(indices.Take(held));
            pool.AddRange(indices.Skip(held));
        }
        pool.Sort();
        validation.Sort();
        return (new SubsetSource(data, pool), new SubsetSource(data, validation));
    }

    private static string Preview(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list.Take(8)) + (list.Count > 8 ? $", ... ({list.Count} in all)" : "");
    }
}
