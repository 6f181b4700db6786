using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// BadNets (Gu et al. 2017): pastes a square patch over each image. Only the patch region changes; the pattern is
/// fixed, the position is fixed or drawn per row from (seed, row).
/// </summary>
public sealed class BadNetsTrigger : ITrigger
{
    /// <summary>Creates the trigger; throws <see cref="ArgumentException"/> for invalid <paramref name="options"/>.</summary>
    public BadNetsTrigger(BadNetsOptions? options = null)
    {
        Options = options ?? new BadNetsOptions();
        Options.Validate();
    }

    /// <summary>The settings.</summary>
    public BadNetsOptions Options { get; }

    /// <inheritdoc />
    public string Name => "BadNets";

    /// <inheritdoc />
    public string? TextKey => null;

    /// <summary>Top-left corner and side of the patch for row <paramref name="row"/> of an H x W batch.</summary>
    public (long Y, long X, long Side) PatchRegion(long height, long width, long seed, long row)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Image size must be positive; got {height} x {width}.", nameof(height));
        var side = Math.Min(TriggerInput.ScaleLength(Options.PatchSize, Math.Min(height, width)), Math.Min(height, width));
        var (y, x) = Options.Position.Resolve(height, width, side, seed, row);
        return (y, x, side);
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0)
    {
        TriggerInput.Validate(images, nameof(images));
        using var scope = NewDisposeScope();
        var (n, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        var side = PatchRegion(h, w, seed, 0).Side;
        var pattern = Options.Pattern.Render(side, Options.PatchSize, images.device, images.dtype);
        // Detached clone: the trigger is data preparation, and the input must stay untouched.
        var result = images.detach().clone();
        for (long i = 0; i < n; i++)
        {
            var (y, x, _) = PatchRegion(h, w, seed, i);
            result[i].narrow(1, y, side).narrow(2, x, side).copy_(pattern);
        }
        return result.MoveToOuterDisposeScope();
    }
}
