using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// AdamW for one parameter tensor with PyTorch's update rule (<c>torch.optim.AdamW</c>, no amsgrad):
/// <c>p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)</c>, with explicit state tensors so that a training
/// checkpoint saves and restores it exactly.
/// </summary>
internal sealed class PromptAdamW : IPromptOptimizer
{
    private const string ExpAvgKey = "adamw_exp_avg";
    private const string ExpAvgSqKey = "adamw_exp_avg_sq";
    private const string StepKey = "adamw_step";
    private readonly Tensor _parameter;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private readonly double _weightDecay;

    /// <summary>Creates the optimiser for <paramref name="parameter"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta is outside [0, 1), epsilon is not positive, or the weight decay is negative.</exception>
    public PromptAdamW(Tensor parameter, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
    {
        _parameter = parameter ?? throw new ArgumentNullException(nameof(parameter));
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be > 0.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be >= 0.");
        (_beta1, _beta2, _epsilon, _weightDecay) = (beta1, beta2, epsilon, weightDecay);
    }

    /// <summary>The first-moment estimate, or null before the first step.</summary>
    public Tensor? ExpAvg { get; private set; }

    /// <summary>The second-moment estimate, or null before the first step.</summary>
    public Tensor? ExpAvgSq { get; private set; }

    /// <summary>Updates applied so far (t in the bias corrections).</summary>
    public long Steps { get; private set; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/>; no-op without a gradient.</summary>
    public void Step(double learningRate)
    {
        var grad = _parameter.grad;
        if (grad is null) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (ExpAvg is null || ExpAvgSq is null)
        {
            ExpAvg = zeros_like(_parameter).DetachFromDisposeScope();
            ExpAvgSq = zeros_like(_parameter).DetachFromDisposeScope();
        }
        Steps++;
        if (_weightDecay != 0) _parameter.mul_(1 - learningRate * _weightDecay);
        ExpAvg.mul_(_beta1).add_(grad, alpha: 1 - _beta1);
        ExpAvgSq.mul_(_beta2).addcmul_(grad, grad, value: 1 - _beta2);
        double correction1 = 1 - Math.Pow(_beta1, Steps);
        double correction2 = 1 - Math.Pow(_beta2, Steps);
        var denominator = (ExpAvgSq.sqrt() / Math.Sqrt(correction2)).add_(_epsilon);
        _parameter.addcdiv_(ExpAvg, denominator, value: -learningRate / correction1);
    }

    /// <summary>Clears the gradient.</summary>
    public void ZeroGrad()
    {
        using var grad = _parameter.grad;
        grad?.zero_();
    }

    IReadOnlyCollection<string> IPromptOptimizer.StateNames => [ExpAvgKey, ExpAvgSqKey, StepKey];

    IReadOnlyDictionary<string, Tensor> IPromptOptimizer.SaveState()
    {
        if (ExpAvg is null || ExpAvgSq is null) return new Dictionary<string, Tensor>();
        _stepTensor?.Dispose();
        _stepTensor = tensor(new[] { Steps });
        return new Dictionary<string, Tensor> { [ExpAvgKey] = ExpAvg, [ExpAvgSqKey] = ExpAvgSq, [StepKey] = _stepTensor };
    }

    private Tensor? _stepTensor;

    void IPromptOptimizer.LoadState(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        Reset();
        if (state.Count == 0) return;
        if (!state.TryGetValue(ExpAvgKey, out var m) || !state.TryGetValue(ExpAvgSqKey, out var v) || !state.TryGetValue(StepKey, out var t))
            throw new InvalidDataException($"{source}: AdamW state needs {ExpAvgKey}, {ExpAvgSqKey} and {StepKey}; found {string.Join(", ", state.Keys)}.");
        foreach (var (name, x) in new[] { (ExpAvgKey, m), (ExpAvgSqKey, v) })
            if (!x.shape.SequenceEqual(_parameter.shape))
                throw new InvalidDataException($"{source}: {name} [{string.Join(", ", x.shape)}] does not match the prompts [{string.Join(", ", _parameter.shape)}].");
        if (t.numel() != 1 || t.dtype != ScalarType.Int64)
            throw new InvalidDataException($"{source}: {StepKey} must be one int64 value; got {t.dtype} [{string.Join(", ", t.shape)}].");
        long steps = t.item<long>();
        if (steps < 1) throw new InvalidDataException($"{source}: {StepKey} is {steps}, expected >= 1.");
        ExpAvg = m.detach().to(_parameter.dtype, _parameter.device).clone().DetachFromDisposeScope();
        ExpAvgSq = v.detach().to(_parameter.dtype, _parameter.device).clone().DetachFromDisposeScope();
        Steps = steps;
    }

    /// <inheritdoc />
    public void Dispose() => Reset();

    private void Reset()
    {
        ExpAvg?.Dispose();
        ExpAvgSq?.Dispose();
        _stepTensor?.Dispose();
        (ExpAvg, ExpAvgSq, _stepTensor, Steps) = (null, null, null, 0);
    }
}
