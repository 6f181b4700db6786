namespace Rvpt.Cli;

/// <summary>
/// Bad input found before (or instead of) the long work: a wrong path, an unknown class or trigger, a checkpoint that
/// does not fit, too few images. The message names the input and what was expected; the tool exits with code 2.
/// </summary>
internal sealed class CliInputException(string message, Exception? inner = null) : Exception(message, inner);
