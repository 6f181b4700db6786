namespace Rvpt;

/// <summary>How prompt tokens are initialised.</summary>
public abstract record PromptInit
{
    private PromptInit() { }

    /// <summary>Zero-mean Gaussian with standard deviation <see cref="Std"/> (default 0.02; inferred from the paper).</summary>
    public sealed record GaussianInit(double Std) : PromptInit;

    /// <summary>VPT's Xavier-uniform: U(-v, v), v = sqrt(6 / (3 * patch² + width)).</summary>
    public sealed record XavierUniformInit : PromptInit;

    /// <summary>Gaussian initialisation with the given standard deviation.</summary>
    public static PromptInit Gaussian(double std = 0.02) =>
        std > 0 ? new GaussianInit(std) : throw new ArgumentOutOfRangeException(nameof(std), std, "std must be positive.");

    /// <summary>VPT's Xavier-uniform initialisation.</summary>
    public static PromptInit XavierUniform { get; } = new XavierUniformInit();
}
