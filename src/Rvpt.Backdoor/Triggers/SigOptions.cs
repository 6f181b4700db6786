namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="SigTrigger"/> (Barni et al. 2019).</summary>
public sealed record SigOptions
{
    /// <summary>Amplitude delta of the sinusoid in [0, 1] pixel units. Default 20/255.</summary>
    public double Delta { get; init; } = 20.0 / 255.0;

    /// <summary>Number of periods f across the image width (finite, &gt; 0). Default 6.</summary>
    public double Frequency { get; init; } = 6;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(Delta >= 0 && Delta <= 1))
            throw new ArgumentException($"Delta must be in [0, 1]; got {Delta}.", nameof(Delta));
        if (!(Frequency > 0) || double.IsInfinity(Frequency))
            throw new ArgumentException($"Frequency must be finite and > 0; got {Frequency}.", nameof(Frequency));
    }
}
