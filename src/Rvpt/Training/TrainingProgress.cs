namespace Rvpt;

/// <summary>One progress report of <see cref="FewShotTrainer"/>, sent after every step.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="Loss">Total loss of the step.</param>
/// <param name="CrossEntropy">Cross-entropy term.</param>
/// <param name="Repelling">Feature-repelling term (mean cosine; lower = more repelled).</param>
/// <param name="LearningRate">Learning rate of the step.</param>
/// <param name="ImagesPerSecond">Throughput of the step.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss, double CrossEntropy,
    double Repelling, double LearningRate, double ImagesPerSecond)
{
    /// <summary>
    /// Clean top-1 accuracy on the validation set after this epoch, in [0, 1], when the trainer has one
    /// (<see cref="FewShotTrainerBuilder.WithValidation"/>): set on one extra report after each epoch's last step
    /// (same epoch and step), null on every other report.
    /// </summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>Fraction of all steps done, in [0, 1].</summary>
    public double Fraction => ((Epoch - 1) * (double)StepsPerEpoch + Step) / (Epochs * (double)StepsPerEpoch);
}
