namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="WaNetTrigger"/> (Nguyen &amp; Tran, ICLR 2021).</summary>
public sealed record WaNetOptions
{
    /// <summary>Side k of the k x k control grid of random offsets (&gt;= 1). Default 4 (WaNet's value); the RVPT paper quotes 224.</summary>
    public int GridSize { get; init; } = 4;

    /// <summary>Warping strength s (finite, &gt;= 0; 0 is the identity). Default 0.5 (WaNet's value); the RVPT paper quotes 1.</summary>
    public double Strength { get; init; } = 0.5;

    /// <summary>Seed of the control-grid noise. Default 0. The field is fixed per trigger: the Apply seed is not used.</summary>
    public long FieldSeed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (GridSize < 1)
            throw new ArgumentException($"GridSize must be >= 1; got {GridSize}.", nameof(GridSize));
        if (!(Strength >= 0) || double.IsInfinity(Strength))
            throw new ArgumentException($"Strength must be finite and >= 0; got {Strength}.", nameof(Strength));
    }
}
