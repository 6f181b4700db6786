using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// SGD with momentum and L2 weight decay for one parameter tensor, with PyTorch's update rule
/// (<c>g = grad + wd * p; buf = momentum * buf + g</c> (buf = g on the first step); <c>p -= lr * buf</c>) and an
/// explicit momentum buffer, so that a training checkpoint can save and restore the optimiser state exactly.
/// </summary>
internal sealed class PromptSgd : IPromptOptimizer
{
    private readonly Tensor _parameter;
    private readonly double _momentum;
    private readonly double _weightDecay;

    /// <summary>Creates the optimiser for <paramref name="parameter"/>.</summary>
    public PromptSgd(Tensor parameter, double momentum, double weightDecay)
    {
        _parameter = parameter ?? throw new ArgumentNullException(nameof(parameter));
        _momentum = momentum;
        _weightDecay = weightDecay;
    }

    /// <summary>The momentum buffer, or null before the first step.</summary>
    public Tensor? MomentumBuffer { get; private set; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>; no-op without a gradient.</summary>
    public void Step(double learningRate)
    {
        var grad = _parameter.grad;
        if (grad is null) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var g = _weightDecay != 0 ? grad + _weightDecay * _parameter : grad.clone();
        if (_momentum != 0)
        {
            if (MomentumBuffer is null) MomentumBuffer = g.detach().clone().DetachFromDisposeScope();
            else MomentumBuffer.mul_(_momentum).add_(g);
            g = MomentumBuffer;
        }
        _parameter.sub_(g * learningRate);
    }

    /// <summary>Clears the gradient.</summary>
    public void ZeroGrad()
    {
        using var grad = _parameter.grad;
        grad?.zero_();
    }

    /// <summary>Restores a saved momentum buffer (copied).</summary>
    public void LoadMomentum(Tensor? buffer)
    {
        MomentumBuffer?.Dispose();
        MomentumBuffer = buffer?.detach().clone().to(_parameter.device).DetachFromDisposeScope();
    }

    IReadOnlyCollection<string> IPromptOptimizer.StateNames => [MomentumKey];

    IReadOnlyDictionary<string, Tensor> IPromptOptimizer.SaveState() =>
        MomentumBuffer is { } buffer ? new Dictionary<string, Tensor> { [MomentumKey] = buffer } : new Dictionary<string, Tensor>();

    void IPromptOptimizer.LoadState(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        var momentum = state.GetValueOrDefault(MomentumKey);
        if (momentum is not null && !momentum.shape.SequenceEqual(_parameter.shape))
            throw new InvalidDataException($"{source}: {MomentumKey} [{string.Join(", ", momentum.shape)}] does not match the prompts [{string.Join(", ", _parameter.shape)}].");
        LoadMomentum(momentum);
    }

    private const string MomentumKey = "momentum_buffer";

    /// <inheritdoc />
    public void Dispose() => MomentumBuffer?.Dispose();
}
