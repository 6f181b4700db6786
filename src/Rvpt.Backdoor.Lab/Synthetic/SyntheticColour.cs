namespace Rvpt.Backdoor.Lab;

/// <summary>A named RGB colour of the synthetic world; the name is the caption word (lower-case letters).</summary>
/// <param name="Name">The caption word, e.g. <c>red</c>.</param>
/// <param name="R">Red in [0, 1].</param>
/// <param name="G">Green in [0, 1].</param>
/// <param name="B">Blue in [0, 1].</param>
public sealed record SyntheticColour(string Name, float R, float G, float B);
