using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// An optimiser of the prompt tensor whose whole state is explicit tensors, so that <see cref="TrainingState"/> saves
/// and restores it exactly: <see cref="PromptSgd"/> (the paper's) or <see cref="PromptAdamW"/>.
/// </summary>
internal interface IPromptOptimizer : IDisposable
{
    /// <summary>
    /// The one way to make the optimiser <paramref name="options"/> asks for (<see cref="TrainingOptions.Optimizer"/>
    /// with its momentum, betas, epsilon and weight decay) over <paramref name="prompts"/>.
    /// </summary>
    static IPromptOptimizer Create(Tensor prompts, TrainingOptions options) => options.Optimizer == PromptOptimizer.AdamW
        ? new PromptAdamW(prompts, options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay)
        : new PromptSgd(prompts, options.Momentum, options.WeightDecay);

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>; no-op without a gradient.</summary>
    void Step(double learningRate);

    /// <summary>Clears the gradient.</summary>
    void ZeroGrad();

    /// <summary>The names of the state tensors this optimiser may save.</summary>
    IReadOnlyCollection<string> StateNames { get; }

    /// <summary>The state to save, by name (not owned by the caller; empty before the first step).</summary>
    IReadOnlyDictionary<string, Tensor> SaveState();

    /// <summary>Restores saved state (copied); throws <see cref="InvalidDataException"/> naming <paramref name="source"/> when it does not fit.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> state, string source);
}
