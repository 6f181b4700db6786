namespace Rvpt;

/// <summary>The optimiser <see cref="FewShotTrainer"/> updates the prompts with.</summary>
public enum PromptOptimizer
{
    /// <summary>SGD with momentum and L2 weight decay (<see cref="PromptSgd"/>), the paper's (CoOp's) choice. The default.</summary>
    Sgd,

    /// <summary>AdamW (<see cref="PromptAdamW"/>): Adam with decoupled weight decay, PyTorch's <c>torch.optim.AdamW</c> rule.</summary>
    AdamW,
}
