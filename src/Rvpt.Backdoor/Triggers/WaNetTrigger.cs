using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// WaNet (Nguyen &amp; Tran, ICLR 2021): a smooth, fixed image warp. A k x k grid of uniform [-1, 1] offsets,
/// divided by its mean absolute value, is upsampled bicubically (align_corners) to H x W; the sampling grid is
/// <c>clamp(identity + s * noise / H, -1, 1)</c>, applied with bilinear <c>grid_sample</c> (align_corners).
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
    public Tensor Grid(long height, long width, Device device, ScalarType dtype)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Image size must be positive; got {height} x {width}.", nameof(height));
        using var scope = NewDisposeScope();
        // Built on the CPU in float64 so the field is the same on every device and dtype up to the final cast.
        var k = Options.GridSize;
        var control = TriggerRandom.CpuUniform(Options.FieldSeed, 1, 2, k, k).to_type(ScalarType.Float64).mul(2).sub(1);
        control = control.div(control.abs().mean());
        var noise = nn.functional.interpolate(control, new[] { height, width }, mode: InterpolationMode.Bicubic, align_corners: true)
            .permute(0, 2, 3, 1);
        // grid_sample's align_corners convention: -1 and 1 are the centres of the first and last pixels.
        var ys = linspace(-1, 1, height, ScalarType.Float64, CPU);
        var xs = linspace(-1, 1, width, ScalarType.Float64, CPU);
        var identity = stack(new[] { xs.view(1, -1).expand(height, width), ys.view(-1, 1).expand(height, width) }, dim: -1).unsqueeze(0);
        // As in WaNet, the offset is divided by H for both axes.
        var grid = identity.add(noise.mul(Options.Strength / height)).clamp(-1, 1).to(dtype, device);
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
