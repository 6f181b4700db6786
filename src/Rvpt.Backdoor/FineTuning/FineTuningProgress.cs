namespace Rvpt.Backdoor;

/// <summary>One progress report of <see cref="ContrastiveFineTuner"/>, after every step.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">1-based global step.</param>
/// <param name="TotalSteps">Steps in the whole run.</param>
/// <param name="Loss">Symmetric contrastive loss of the step.</param>
/// <param name="LearningRate">Learning rate of the step.</param>
public sealed record FineTuningProgress(int Epoch, int Epochs, int Step, int TotalSteps, double Loss, double LearningRate);
