using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// WaNet (Nguyen &amp; Tran, ICLR 2021), as its code and CleanCLIP's <c>backdoor/utils.py</c> (patch_type "warped") run
/// it: a k x k grid of uniform [-1, 1] offsets, divided by its mean absolute value, is upsampled bicubically
/// (align_corners) to H x W (the noise grid); the sampling grid is <c>clamp((identity + s * noise / H) * rescale, -1, 1)</c>,
/// applied with bilinear <c>grid_sample</c> (align_corners). A saved noise grid (<see cref="WaNetOptions.NoiseGrid"/>)
/// replaces the drawn one, so evaluation uses the attacker's exact warp.
/// </summary>
public sealed class WaNetTrigger : ITrigger
{
    /// <summary>Creates the trigger; throws <see cref="ArgumentException"/> for invalid <paramref name="options"/>.</summary>
    public WaNetTrigger(WaNetOptions? options = null)
    {
        Options = options ?? new WaNetOptions();
        Options.Validate();
    }

    /// <summary>The settings.</summary>
    public WaNetOptions Options { get; }

    /// <inheritdoc />
    public string Name => "WaNet";

    /// <inheritdoc />
    public string? TextKey => null;

    /// <summary>
    /// The sampling grid <c>[1, H, W, 2]</c> (last axis x then y, in [-1, 1]) on <paramref name="device"/> in
    /// <paramref name="dtype"/>; identical for every call with the same options and size.
    /// </summary>
    /// <exception cref="ArgumentException">A saved noise grid does not match H x W.</exception>
    public Tensor Grid(long height, long width, Device device, ScalarType dtype)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Image size must be positive; got {height} x {width}.", nameof(height));
        using var scope = NewDisposeScope();
        Tensor noise;
        if (Options.NoiseGrid is { } saved)
        {
            if (saved.shape[1] != height || saved.shape[2] != width)
                throw new ArgumentException($"The saved WaNet noise grid is [{string.Join(", ", saved.shape)}]; it warps {saved.shape[1]} x {saved.shape[2]} images, not {height} x {width}.", nameof(height));
            noise = saved.detach().to(ScalarType.Float64, CPU);
        }
        else
        {
            var k = Options.GridSize ?? (int)height;
            // Drawn on the CPU so the field is the same on every device; WaNet draws torch.rand(1, 2, k, k) * 2 - 1.
            var control = TriggerRandom.CpuUniform(Options.FieldSeed, 1, 2, k, k).mul(2).sub(1);
            noise = NoiseFromControl(control, height, width);
        }
        return SamplingGrid(noise, Options.Strength, Options.GridRescale).to(dtype, device).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// WaNet's noise grid <c>[1, H, W, 2]</c> (float64, CPU) from a control grid <c>[1, 2, k, k]</c> of uniform [-1, 1]
    /// offsets: divided by its mean absolute value, upsampled bicubically with align_corners, channels last.
    /// </summary>
    internal static Tensor NoiseFromControl(Tensor control, long height, long width)
    {
        using var scope = NewDisposeScope();
        var c = control.to(ScalarType.Float64, CPU);
        c = c.div(c.abs().mean());
        var noise = nn.functional.interpolate(c, new[] { height, width }, mode: InterpolationMode.Bicubic, align_corners: true)
            .permute(0, 2, 3, 1);
        return noise.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The sampling grid <c>clamp((identity + s * noise / H) * rescale, -1, 1)</c> (float64, CPU) from a noise grid <c>[1, H, W, 2]</c>.</summary>
    internal static Tensor SamplingGrid(Tensor noise, double strength, double gridRescale)
    {
        using var scope = NewDisposeScope();
        var (height, width) = (noise.shape[1], noise.shape[2]);
        // grid_sample's align_corners convention: -1 and 1 are the centres of the first and last pixels.
        var ys = linspace(-1, 1, height, ScalarType.Float64, CPU);
        var xs = linspace(-1, 1, width, ScalarType.Float64, CPU);
        var identity = stack(new[] { xs.view(1, -1).expand(height, width), ys.view(-1, 1).expand(height, width) }, dim: -1).unsqueeze(0);
        // As in WaNet, the offset is divided by H for both axes.
        var grid = identity.add(noise.to(ScalarType.Float64, CPU).mul(strength / height)).mul(gridRescale).clamp(-1, 1);
        return grid.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0)
    {
        TriggerInput.Validate(images, nameof(images));
        using var scope = NewDisposeScope();
        var (n, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        // Sampling runs in float64: float32 grid coordinates are off by ~1e-5 pixel at 224, which alone moves pixel
        // values by up to ~3e-5 (so even s = 0 would not be the identity). The result is cast back to the input dtype.
        var grid = Grid(h, w, images.device, ScalarType.Float64).expand(n, h, w, 2);
        var source = images.detach().to_type(ScalarType.Float64);
        // Border padding: samples stay inside after the clamp, so it only guards against rounding at the edges.
        var warped = nn.functional.grid_sample(source, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: true);
        return warped.clamp(0, 1).to_type(images.dtype).MoveToOuterDisposeScope();
    }
}
