using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// The prompts' state for the length of a training run: train mode (prompt dropout on) and, with mixed precision,
/// the image tower computing in <see cref="TrainingOptions.ComputeDType"/>. Disposing restores eval mode and the
/// compute dtype the prompts had before.
/// </summary>
internal sealed class PromptTrainingMode : IDisposable
{
    private readonly DeepPromptInjector _prompts;
    private readonly ScalarType _previousComputeDType;

    public PromptTrainingMode(DeepPromptInjector prompts, ScalarType? computeDType, ILogger logger)
    {
        _prompts = prompts;
        _previousComputeDType = prompts.ComputeDType;
        if (computeDType is { } dtype)
        {
            prompts.SetComputeDType(dtype);
            logger.LogInformation("Mixed precision: the image tower computes in {Compute}, prompts in {Master}, the loss in Float32.",
                dtype, prompts.Prompts.dtype);
        }
        prompts.train();
    }

    public void Dispose()
    {
        _prompts.eval();
        _prompts.SetComputeDType(_previousComputeDType);
    }
}
