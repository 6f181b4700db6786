using static TorchSharp.torch;

namespace Rvpt;

/// <summary>Configuration of deep visual prompts. Build one with <see cref="DeepPromptInjector.For"/>.</summary>
public sealed record DeepPromptOptions
{
    /// <summary>
    /// The (1-based) blocks that get their own prompt. Default: blocks D+1..L with D = 3, the paper's setting.
    /// Blocks before the first prompted block form the shared, unprompted trunk.
    /// </summary>
    public IReadOnlyList<int>? PromptedBlocks { get; init; }

    /// <summary>Unprompted depth D used when <see cref="PromptedBlocks"/> is null. Default 3.</summary>
    public int UnpromptedDepth { get; init; } = 3;

    /// <summary>Prompt tokens per block, b. Default 50 (the paper's; about one per patch token on ViT-B/32).</summary>
    public int Tokens { get; init; } = 50;

    /// <summary>Initialisation. Default Gaussian, std 0.02.</summary>
    public PromptInit Init { get; init; } = PromptInit.Gaussian();

    /// <summary>Dropout applied to the prompt tokens in training mode. Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>Seed of the initialisation. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Element type of the learnable prompts (the master copy; cast to the model's dtype in use). Default float32.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>The prompted blocks for a tower of <paramref name="layers"/> blocks, validated and sorted.</summary>
    public IReadOnlyList<int> ResolveBlocks(int layers)
    {
        if (Tokens < 0) throw new ArgumentOutOfRangeException(nameof(Tokens), Tokens, "Prompt tokens must be >= 0.");
        if (Dropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        if (PromptedBlocks is null)
        {
            if (UnpromptedDepth < 0 || UnpromptedDepth > layers)
                throw new ArgumentOutOfRangeException(nameof(UnpromptedDepth), UnpromptedDepth, $"D must be in [0, {layers}] for a {layers}-block tower.");
            return Enumerable.Range(UnpromptedDepth + 1, layers - UnpromptedDepth).ToArray();
        }
        var blocks = PromptedBlocks.Distinct().OrderBy(b => b).ToArray();
        var bad = blocks.Where(b => b < 1 || b > layers).ToList();
        if (bad.Count > 0) throw new ArgumentOutOfRangeException(nameof(PromptedBlocks), $"Blocks {string.Join(", ", bad)} are outside 1..{layers}.");
        return blocks;
    }
}
