namespace Rvpt.Demo;

/// <summary>The command-line arguments of a run on a real model.</summary>
internal sealed record RealModelArguments(
    string Model, string? Tokenizer, string Train, string Test, string? Classes, string Attack, string Target,
    int Shots, int Epochs, IReadOnlyList<long> Seeds, string Output);
