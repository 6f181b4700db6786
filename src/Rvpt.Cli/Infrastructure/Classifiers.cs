using Rvpt.Clip;

namespace Rvpt.Cli;

/// <summary>A zero-shot classifier of the plain model or of the model with saved prompts, as one object to dispose.</summary>
internal sealed class OpenClassifier(ZeroShotClassifier classifier, PromptedClassifier? prompted) : IDisposable
{
    public ZeroShotClassifier Classifier => classifier;

    /// <summary>The prompts, when the classifier uses them.</summary>
    public DeepPromptInjector? Prompts => prompted?.Prompts;

    public IReadOnlyList<string> ClassNames => classifier.ClassNames;

    public void Dispose()
    {
        if (prompted is not null) prompted.Dispose();
        else classifier.Dispose();
    }
}

internal static class Classifiers
{
    /// <summary>
    /// The plain model's classifier over <paramref name="classNames"/>, or — with <paramref name="promptsPath"/> — the
    /// prompted one (class names and templates default to those recorded in the prompt file). A prompt file that does
    /// not fit the model is bad input.
    /// </summary>
    public static OpenClassifier Open(ClipModel clip, string? promptsPath, IReadOnlyList<string>? classNames, IReadOnlyList<string>? templates)
    {
        if (promptsPath is null)
            return new OpenClassifier(ZeroShotClassifier.Create(clip, classNames!, templates ?? PromptTemplates.APhotoOfA), null);
        PromptedClassifier prompted;
        try
        {
            prompted = PromptedClassifier.Load(promptsPath, clip, classNames, templates);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new CliInputException($"--prompts '{promptsPath}': {e.Message}", e);
        }
        return new OpenClassifier(prompted.Classifier, prompted);
    }
}
