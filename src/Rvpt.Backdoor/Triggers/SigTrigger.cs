using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// SIG (Barni et al. 2019): adds the horizontal sinusoid <c>delta * sin(2 pi j f / W)</c> to every row and channel
/// of column j, then clamps to [0, 1]. Deterministic; the seed is unused.
/// </summary>
public sealed class SigTrigger : ITrigger
{
    /// <summary>Creates the trigger; throws <see cref="ArgumentException"/> for invalid <paramref name="options"/>.</summary>
    public SigTrigger(SigOptions? options = null)
    {
        Options = options ?? new SigOptions();
        Options.Validate();
    }

    /// <summary>The settings.</summary>
    public SigOptions Options { get; }

    /// <inheritdoc />
    public string Name => "SIG";

    /// <inheritdoc />
    public string? TextKey => null;

    /// <summary>The signal <c>[W]</c> added to each column, on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public Tensor Signal(long width, Device device, ScalarType dtype)
    {
        if (width < 1)
            throw new ArgumentException($"Width must be positive; got {width}.", nameof(width));
        using var scope = NewDisposeScope();
        // Phase computed in float64 so large widths and frequencies keep their precision before the cast.
        var j = arange(width, ScalarType.Float64, device);
        var signal = j.mul(2 * Math.PI * Options.Frequency / width).sin().mul(Options.Delta).to_type(dtype);
        return signal.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0)
    {
        TriggerInput.Validate(images, nameof(images));
        using var scope = NewDisposeScope();
        var signal = Signal(images.shape[3], images.device, images.dtype);
        var result = images.detach().add(signal.view(1, 1, 1, -1)).clamp(0, 1);
        return result.MoveToOuterDisposeScope();
    }
}
