using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Blended (Chen et al. 2017): <c>clip((1 - a) * image + a * pattern, 0, 1)</c> with a full-image pattern: fresh
/// uniform noise per image (CleanCLIP's code; drawn per row from (seed, row) on the CPU), one fixed noise pattern, or
/// a user image.
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

    /// <summary>
    /// The fixed <c>[3, H, W]</c> pattern blended into H x W images (the user pattern or the
    /// <see cref="BlendedNoise.Fixed"/> noise), on <paramref name="device"/> in <paramref name="dtype"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The noise is drawn per image (<see cref="BlendedNoise.PerImage"/>).</exception>
    public Tensor Pattern(long height, long width, Device device, ScalarType dtype)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Image size must be positive; got {height} x {width}.", nameof(height));
        if (IsPerImage)
            throw new InvalidOperationException("This Blended trigger draws fresh noise per image; it has no fixed pattern.");
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

    private bool IsPerImage => Options.Pattern is null && Options.Noise == BlendedNoise.PerImage;

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0)
    {
        TriggerInput.Validate(images, nameof(images));
        using var scope = NewDisposeScope();
        var (n, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        var patterns = !IsPerImage ? Pattern(h, w, images.device, images.dtype).unsqueeze(0)
            : n == 0 ? images.detach().clone()
            : stack(Enumerable.Range(0, (int)n).Select(i => TriggerRandom.CpuUniform(unchecked((long)TriggerRandom.Hash(seed, i, 4)), 3, h, w)).ToArray(), 0);
        return Blend(images, patterns).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>clip(a * pattern + (1 - a) * image, 0, 1)</c> with <paramref name="patterns"/> <c>[N or 1, 3, H, W]</c>; the test
    /// seam through which golden noise from the authors' code is fed.
    /// </summary>
    internal Tensor Blend(Tensor images, Tensor patterns)
    {
        using var scope = NewDisposeScope();
        var a = Options.Alpha;
        // CleanCLIP: image = clip(0.2 * noise + 0.8 * image, 0, 1); a convex combination, so the clamp only absorbs rounding.
        var result = patterns.to(images.dtype, images.device).mul(a).add(images.detach().mul(1 - a)).clamp(0, 1);
        return result.MoveToOuterDisposeScope();
    }
}
