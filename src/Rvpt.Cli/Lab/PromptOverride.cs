using Rvpt.Clip;

namespace Rvpt.Cli.Lab;

/// <summary>The --depth / --tokens overrides of the scaled paper defaults.</summary>
internal sealed record PromptOverride(int? Depth, int? Tokens)
{
    /// <summary>The prompt options for <paramref name="vision"/>: <paramref name="preset"/> or the scaled defaults, with the overrides applied.</summary>
    public DeepPromptOptions Apply(ClipVisionConfig vision, DeepPromptOptions? preset)
    {
        var options = preset ?? DeepPromptOptions.ScaledTo(vision);
        if (Depth is { } d)
        {
            if (d >= vision.Layers) throw new CliInputException($"--depth {d} leaves no block to prompt in a {vision.Layers}-block vision tower; use 0..{vision.Layers - 1}.");
            options = options with { UnpromptedDepth = d, PromptedBlocks = null };
        }
        if (Tokens is { } b) options = options with { Tokens = b };
        return options;
    }
}
