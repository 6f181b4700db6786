namespace Rvpt;

/// <summary>How far a run has come: <see cref="Epoch"/> epochs and then <see cref="Step"/> steps of the next one are done.</summary>
/// <param name="Epoch">Completed epochs (0-based index of the current epoch).</param>
/// <param name="Step">Completed steps of the current epoch.</param>
internal readonly record struct TrainingPosition(int Epoch, int Step)
{
    /// <summary>The position in 1-based words, for messages.</summary>
    public override string ToString() => Step == 0 ? $"after epoch {Epoch}" : $"epoch {Epoch + 1}, after step {Step}";
}
