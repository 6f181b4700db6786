using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Fluent builder for <see cref="DeepPromptInjector"/>:
/// <code>using var prompts = DeepPromptInjector.For(clip).FromBlock(3).Tokens(50).Build();</code>
/// </summary>
public sealed class DeepPromptInjectorBuilder
{
    private readonly ClipModel _clip;
    private DeepPromptOptions _options = new();

    internal DeepPromptInjectorBuilder(ClipModel clip) => _clip = clip ?? throw new ArgumentNullException(nameof(clip));

    /// <summary>Leaves blocks 1..<paramref name="unpromptedDepth"/> unprompted and prompts blocks D+1..L. Default D = 3.</summary>
    public DeepPromptInjectorBuilder FromBlock(int unpromptedDepth)
    {
        _options = _options with { UnpromptedDepth = unpromptedDepth, PromptedBlocks = null };
        return this;
    }

    /// <summary>
    /// Sets D and b from the model's vision tower with <see cref="DeepPromptOptions.ScaledTo"/> (the paper's D = 3,
    /// b = 50 on ViT-B/32, scaled for smaller towers), keeping the other settings.
    /// </summary>
    public DeepPromptInjectorBuilder ScaledToModel()
    {
        var scaled = DeepPromptOptions.ScaledTo(_clip.Config.Vision);
        _options = _options with { UnpromptedDepth = scaled.UnpromptedDepth, Tokens = scaled.Tokens, PromptedBlocks = null };
        return this;
    }

    /// <summary>Prompts exactly these (1-based) blocks.</summary>
    public DeepPromptInjectorBuilder Blocks(params int[] blocks)
    {
        _options = _options with { PromptedBlocks = blocks.ToArray() };
        return this;
    }

    /// <summary>Prompt tokens per block, b. Default 50.</summary>
    public DeepPromptInjectorBuilder Tokens(int count)
    {
        _options = _options with { Tokens = count };
        return this;
    }

    /// <summary>Initialisation. Default <see cref="PromptInit.Gaussian"/> with std 0.02.</summary>
    public DeepPromptInjectorBuilder Init(PromptInit init)
    {
        _options = _options with { Init = init ?? throw new ArgumentNullException(nameof(init)) };
        return this;
    }

    /// <summary>Prompt dropout in training mode. Default 0.</summary>
    public DeepPromptInjectorBuilder Dropout(double rate)
    {
        _options = _options with { Dropout = rate };
        return this;
    }

    /// <summary>Seed of the initialisation. Default 0.</summary>
    public DeepPromptInjectorBuilder Seed(long seed)
    {
        _options = _options with { Seed = seed };
        return this;
    }

    /// <summary>Element type of the master prompts. Default float32.</summary>
    public DeepPromptInjectorBuilder WithDType(ScalarType dtype)
    {
        _options = _options with { DType = dtype };
        return this;
    }

    /// <summary>Uses complete options.</summary>
    public DeepPromptInjectorBuilder WithOptions(DeepPromptOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        return this;
    }

    /// <summary>Creates the prompts on the model's device and freezes the model. The caller disposes the injector.</summary>
    public DeepPromptInjector Build() => new(_clip, _options);
}
