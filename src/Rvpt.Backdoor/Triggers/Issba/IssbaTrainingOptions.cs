namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="IssbaTrainer"/>. The loss follows BackdoorBox's ISSBA (<c>core/attacks/ISSBA.py</c>,
/// <c>train_encoder_decoder</c>): the secret's binary cross-entropy alone for the first steps, then
/// <c>SecretWeight * BCE + ResidualWeight * mean(residual^2)</c> (BackdoorBox: 1.5 and 2.0, plus an LPIPS term and an
/// optional critic that need a pretrained network and are left out here); the residual weight ramps up linearly as
/// StegaStamp's <c>l2_loss_ramp</c> does. Between encoder and decoder the encoded image gets Gaussian noise (ramped,
/// as StegaStamp's <c>transform_net</c> ramps its distortions) and an 8-bit rounding (straight-through), so the
/// secret survives the uint8 storage of poisoned images.
/// </summary>
public sealed record IssbaTrainingOptions
{
    /// <summary>Adam steps. Default 1500.</summary>
    public int Steps { get; init; } = 1500;

    /// <summary>Images per step. Default 32 (BackdoorBox).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam learning rate. Default 1e-3 (BackdoorBox uses 1e-4 over many more steps).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Steps with the secret loss only. Default 300.</summary>
    public int SecretOnlySteps { get; init; } = 300;

    /// <summary>Steps over which the residual weight and the noise ramp up after the secret-only steps. Default 500.</summary>
    public int RampSteps { get; init; } = 500;

    /// <summary>Weight of the secret's binary cross-entropy. Default 1.5 (BackdoorBox).</summary>
    public double SecretWeight { get; init; } = 1.5;

    /// <summary>
    /// Weight of <c>mean(residual^2)</c> once ramped up. Default 2 (BackdoorBox, which also has an LPIPS term); without
    /// LPIPS the residual stays visible (18.7 dB PSNR on the 32-px world), and the lab uses 60 (31.1 dB).
    /// </summary>
    public double ResidualWeight { get; init; } = 2.0;

    /// <summary>Standard deviation of the Gaussian noise on the encoded image once ramped up. Default 0.01.</summary>
    public double NoiseStd { get; init; } = 0.01;

    /// <summary>Images of the validation source used for the final PSNR and bit accuracy. Default 256.</summary>
    public int EvaluationImages { get; init; } = 256;

    /// <summary>Seed of the batches, secrets and noise. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Steps < 0) throw new ArgumentException($"Steps must be >= 0; got {Steps}.", nameof(Steps));
        if (BatchSize < 1) throw new ArgumentException($"BatchSize must be >= 1; got {BatchSize}.", nameof(BatchSize));
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"LearningRate must be positive and finite; got {LearningRate}.", nameof(LearningRate));
        if (SecretOnlySteps < 0) throw new ArgumentException($"SecretOnlySteps must be >= 0; got {SecretOnlySteps}.", nameof(SecretOnlySteps));
        if (RampSteps < 0) throw new ArgumentException($"RampSteps must be >= 0; got {RampSteps}.", nameof(RampSteps));
        if (!(SecretWeight > 0) || double.IsInfinity(SecretWeight)) throw new ArgumentException($"SecretWeight must be positive and finite; got {SecretWeight}.", nameof(SecretWeight));
        if (!(ResidualWeight >= 0) || double.IsInfinity(ResidualWeight)) throw new ArgumentException($"ResidualWeight must be finite and >= 0; got {ResidualWeight}.", nameof(ResidualWeight));
        if (!(NoiseStd >= 0) || double.IsInfinity(NoiseStd)) throw new ArgumentException($"NoiseStd must be finite and >= 0; got {NoiseStd}.", nameof(NoiseStd));
        if (EvaluationImages < 1) throw new ArgumentException($"EvaluationImages must be >= 1; got {EvaluationImages}.", nameof(EvaluationImages));
    }
}
