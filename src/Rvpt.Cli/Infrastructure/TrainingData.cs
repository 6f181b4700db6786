using Rvpt.Clip;

namespace Rvpt.Cli;

/// <summary>
/// The training pool and the clean validation set of a command: <c>--train</c> with either <c>--val DIR</c> or a seeded
/// <c>--val-fraction</c> split of the training folder. The shot count is checked against the pool before any training.
/// </summary>
internal sealed record TrainingData(ImageFolderDataset Train, ILabeledImageSource Pool, ILabeledImageSource Validation, string ValidationDescription)
{
    public static TrainingData Open(ClipImageProcessor processor, string trainPath, string? valPath, double valFraction, int seed, int shots,
        string? classesFile)
    {
        var train = ImageFolders.Open(trainPath, "--train", processor, classesFile);
        if (valPath is not null)
        {
            var validation = ImageFolders.Open(valPath, "--val", processor, classesFile);
            ImageFolders.SameClasses(train, "--train", validation, "--val");
            CheckShots(train, train.CountPerClass(), shots, $"--train '{trainPath}'");
            return new TrainingData(train, train, validation, $"--val '{valPath}' ({validation.Count} images)");
        }
        if (!(valFraction > 0 && valFraction < 1))
            throw new CliInputException($"--val-fraction must be in (0, 1); got {valFraction}.");
        TrainValidationSplit split;
        try
        {
            split = TrainValidationSplit.Create(train, valFraction, seed, minimumTrainPerClass: shots);
        }
        catch (InvalidDataException e)
        {
            throw new CliInputException($"--train '{trainPath}' with --val-fraction {valFraction} and --shots {shots}: {e.Message}", e);
        }
        return new TrainingData(train, split.Train, split.Validation,
            $"{split.Validation.Count} images held out of --train (--val-fraction {valFraction}, seed {seed})");
    }

    private static void CheckShots(ILabeledImageSource data, int[] counts, int shots, string where)
    {
        for (int c = 0; c < counts.Length; c++)
            if (counts[c] < shots)
                throw new CliInputException($"{where}: class '{data.ClassNames[c]}' has {counts[c]} image(s) but --shots {shots} were asked for; use fewer shots or add images.");
    }
}
