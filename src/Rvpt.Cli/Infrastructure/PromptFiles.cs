using Rvpt.Clip;

namespace Rvpt.Cli;

/// <summary>Loads a prompt checkpoint onto a model, as bad input (exit code 2) when it does not fit.</summary>
internal static class PromptFiles
{
    public static DeepPromptInjector Load(string path, ClipModel clip, string option = "--prompts")
    {
        CliChecks.FileExists(path, option, "a prompt checkpoint (.safetensors) written by rvpt defend");
        try
        {
            return DeepPromptInjector.Load(path, clip);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new CliInputException($"{option} '{path}': {e.Message}", e);
        }
    }
}
