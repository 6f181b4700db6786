using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// The validation history of one <see cref="FewShotTrainer.Fit"/> call: accuracy per epoch, the best epoch and a copy
/// of its prompts, and the early-stopping decision (<see cref="TrainingOptions.EarlyStoppingPatience"/>).
/// </summary>
internal sealed class ValidationTracker(int patience)
{
    private readonly List<double> _accuracies = [];
    private Tensor? _bestPrompts;

    public IReadOnlyList<double> Accuracies => _accuracies;

    public int? BestEpoch { get; private set; }

    public double BestAccuracy { get; private set; } = double.NegativeInfinity;

    public bool StoppedEarly { get; set; }

    /// <summary>Records the accuracy after 1-based <paramref name="epoch"/>; returns whether patience has run out.</summary>
    public bool Add(double accuracy, int epoch, DeepPromptInjector prompts)
    {
        _accuracies.Add(accuracy);
        if (accuracy > BestAccuracy || BestEpoch is null)
        {
            BestAccuracy = accuracy;
            BestEpoch = epoch;
            if (patience > 0)
            {
                _bestPrompts?.Dispose();
                using var noGrad = no_grad();
                _bestPrompts = prompts.Prompts.detach().clone().DetachFromDisposeScope();
            }
            return false;
        }
        return patience > 0 && epoch - BestEpoch >= patience;
    }

    /// <summary>After an early stop, puts the best epoch's prompts back (and frees the copy).</summary>
    public void RestoreBest(DeepPromptInjector prompts)
    {
        if (_bestPrompts is null) return;
        if (StoppedEarly)
        {
            using var noGrad = no_grad();
            prompts.Prompts.copy_(_bestPrompts);
        }
        _bestPrompts.Dispose();
        _bestPrompts = null;
    }
}
