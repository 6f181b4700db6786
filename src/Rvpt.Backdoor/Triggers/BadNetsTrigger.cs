using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// BadNets (Gu et al. 2017): pastes a square patch over each image. Only the patch region changes. The position is
/// fixed or drawn per row from (seed, row); the pattern is fixed, or (CleanCLIP's "random" patch) the image's mean plus
/// N(0, 1) noise drawn per row from (seed, row) on the CPU.
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
    internal (long Y, long X, long Side) PatchRegion(long height, long width, long seed, long row)
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
        var positions = new (long Y, long X)[n];
        for (long i = 0; i < n; i++)
        {
            var (y, x, _) = PatchRegion(h, w, seed, i);
            positions[i] = (y, x);
        }
        // Per-image noise comes from a CPU generator seeded by (seed, row), so it does not depend on the batch or device.
        var noise = Options.Pattern.IsPerImage && n > 0
            ? stack(Enumerable.Range(0, (int)n).Select(i => TriggerRandom.CpuNormal(unchecked((long)TriggerRandom.Hash(seed, i, 3)), 3, side, side)).ToArray(), 0)
            : null;
        return Compose(images, positions, noise).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Pastes the patch at the given top-left corners, one per row; <paramref name="noise"/> <c>[N, 3, side, side]</c>
    /// holds the per-row draws of <see cref="PatchPatternKind.ImageMeanNoise"/> (null for fixed patterns). The test seam
    /// through which golden draws from the authors' code are fed.
    /// </summary>
    internal Tensor Compose(Tensor images, IReadOnlyList<(long Y, long X)> positions, Tensor? noise)
    {
        using var scope = NewDisposeScope();
        var (n, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        var side = PatchRegion(h, w, 0, 0).Side;
        var fixedPattern = Options.Pattern.IsPerImage ? null : Options.Pattern.Render(side, Options.PatchSize, images.device, images.dtype);
        // Detached clone: the trigger is data preparation, and the input must stay untouched.
        var result = images.detach().clone();
        for (long i = 0; i < n; i++)
        {
            var (y, x) = positions[(int)i];
            var pattern = fixedPattern ?? Options.Pattern.RenderForImage(images[i].detach(), noise![i]);
            result[i].narrow(1, y, side).narrow(2, x, side).copy_(pattern);
        }
        return result.MoveToOuterDisposeScope();
    }
}
