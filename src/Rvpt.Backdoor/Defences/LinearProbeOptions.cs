namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="LinearProbe"/>; defaults are the paper's baseline.</summary>
public sealed record LinearProbeOptions
{
    /// <summary>SGD learning rate. Default 0.01.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>SGD momentum. Default 0.9.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Batch size. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Epochs. Default 40.</summary>
    public int Epochs { get; init; } = 40;

    /// <summary>Seed of the initialisation and shuffling. Default 0.</summary>
    public long Seed { get; init; }
}
