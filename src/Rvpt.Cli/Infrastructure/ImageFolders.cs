using Rvpt.Clip;

namespace Rvpt.Cli;

/// <summary>Opens image folders (one sub-folder per class) and checks that several of them agree, as bad input (exit code 2).</summary>
internal static class ImageFolders
{
    public static ImageFolderDataset Open(string path, string option, ClipImageProcessor processor, string? classNamesFile = null)
    {
        CliChecks.DirectoryExists(path, option, "a folder with one sub-folder of images per class");
        try
        {
            return ImageFolderDataset.Open(path, processor, new ImageFolderOptions { ClassNamesFile = classNamesFile });
        }
        catch (Exception e) when (e is InvalidDataException or DirectoryNotFoundException or FileNotFoundException or ArgumentException)
        {
            throw new CliInputException($"{option}: {e.Message}", e);
        }
    }

    /// <summary>Checks that <paramref name="other"/> has the classes of <paramref name="reference"/>, in the same order.</summary>
    public static void SameClasses(ILabeledImageSource reference, string referenceOption, ILabeledImageSource other, string otherOption)
    {
        if (reference.ClassNames.SequenceEqual(other.ClassNames)) return;
        var onlyReference = reference.ClassNames.Except(other.ClassNames).ToList();
        var onlyOther = other.ClassNames.Except(reference.ClassNames).ToList();
        throw new CliInputException(
            $"{referenceOption} and {otherOption} have different class folders (only in {referenceOption}: {CliChecks.Preview(onlyReference)}; " +
            $"only in {otherOption}: {CliChecks.Preview(onlyOther)}). Both need the same class sub-folders.");
    }

    /// <summary>Checks that <paramref name="data"/>'s classes are those a set of prompts was trained on.</summary>
    public static void MatchesPrompts(ILabeledImageSource data, string option, IReadOnlyList<string>? promptClasses, string promptsPath)
    {
        if (promptClasses is null || promptClasses.SequenceEqual(data.ClassNames)) return;
        throw new CliInputException(
            $"{option} has the classes [{CliChecks.Preview(data.ClassNames)}] but the prompts '{promptsPath}' were trained on [{CliChecks.Preview(promptClasses)}]; " +
            "use a folder with the same class sub-folders (or a --classes file mapping them).");
    }
}
