using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Blended (Chen et al. 2017): <c>(1 - a) * image + a * pattern</c> with a fixed full-image pattern, so every
/// pixel moves by exactly <c>a * (pattern - image)</c>.
/// </summary>
public sealed class BlendedTrigger : ITrigger
{
    /// <summary>Creates the trigger; throws <see cref="ArgumentException"/> for invalid <paramref name="options"/>.</summary>
    public BlendedTrigger(BlendedOptions? options = null)
    {
        Options = options ?? new BlendedOptions();
        Options.Validate();
    }

    /// <summary>The settings.</summary>
    public BlendedOptions Options { get; }

    /// <inheritdoc />
    public string Name => "Blended";

    /// <inheritdoc />
    public string? TextKey => null;

    /// <summary>The <c>[3, H, W]</c> pattern blended into H x W images, on <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public Tensor Pattern(long height, long width, Device device, ScalarType dtype)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Image size must be positive; got {height} x {width}.", nameof(height));
        using var scope = NewDisposeScope();
        Tensor pattern;
        if (Options.Pattern is null)
        {
            // Drawn on the CPU so the pattern is identical on every device.
            pattern = TriggerRandom.CpuUniform(Options.PatternSeed, 3, height, width).to(dtype, device);
        }
        else
        {
            var user = Options.Pattern.to(dtype, device).unsqueeze(0);
            pattern = user.shape[2] == height && user.shape[3] == width
                ? user.squeeze(0).clone()
                : nn.functional.interpolate(user, new[] { height, width }, mode: InterpolationMode.Bilinear, align_corners: false)
                    .squeeze(0).clamp(0, 1);
        }
        return pattern.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0)
    {
        TriggerInput.Validate(images, nameof(images));
        using var scope = NewDisposeScope();
        var pattern = Pattern(images.shape[2], images.shape[3], images.device, images.dtype);
        var a = Options.Alpha;
        // A convex combination of two [0, 1] images stays in [0, 1]; the clamp only absorbs rounding.
        var result = images.detach().mul(1 - a).add(pattern.unsqueeze(0).mul(a)).clamp(0, 1);
        return result.MoveToOuterDisposeScope();
    }
}
