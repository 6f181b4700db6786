using Rvpt.Clip;
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

    /// <summary>
    /// Dropout applied to the prompt tokens in training mode only, with its own mask for every sample of a batch (as
    /// VPT does). An injector is in eval mode unless <c>train()</c> is called; <see cref="FewShotTrainer"/> switches it. Default 0.
    /// </summary>
    public double Dropout { get; init; }

    /// <summary>Seed of the initialisation. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Element type of the learnable prompts (the master copy; cast to the model's dtype in use). Default float32.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>
    /// The paper's geometry carried over to another vision tower: the unprompted depth keeps D/L = 3/12
    /// (D = round(L / 4)), and the prompt length keeps the paper's ratio of 50 prompts to 49 patch tokens, capped at
    /// the paper's 50 (b = min(50, round(50 * patches / 49))). ViT-B/32 gives D = 3, b = 50; ViT-B/16 and ViT-L/14
    /// (which the paper ran with the same settings) give b = 50; a 4-block tower with 16 patches gives D = 1, b = 16.
    /// </summary>
    public static DeepPromptOptions ScaledTo(ClipVisionConfig vision)
    {
        ArgumentNullException.ThrowIfNull(vision);
        int patches = vision.GridSize * vision.GridSize;
        return new DeepPromptOptions
        {
            UnpromptedDepth = Math.Clamp((int)Math.Round(vision.Layers / 4.0, MidpointRounding.AwayFromZero), 0, vision.Layers - 1),
            Tokens = Math.Max(1, Math.Min(50, (int)Math.Round(50.0 * patches / 49.0, MidpointRounding.AwayFromZero))),
        };
    }

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
