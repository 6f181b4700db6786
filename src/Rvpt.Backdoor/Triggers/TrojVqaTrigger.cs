using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// TrojVQA (Walmer et al. 2022) adapted to CLIP: a patch at the image centre plus a text key
/// (<see cref="TextKey"/>) that poisoned captions carry. Only the centre patch of the image changes.
/// </summary>
public sealed class TrojVqaTrigger : ITrigger
{
    private readonly BadNetsTrigger _patch;

    /// <summary>Creates the trigger; throws <see cref="ArgumentException"/> for invalid <paramref name="options"/>.</summary>
    public TrojVqaTrigger(TrojVqaOptions? options = null)
    {
        Options = options ?? new TrojVqaOptions();
        Options.Validate();
        _patch = new BadNetsTrigger(Options.ToBadNets());
    }

    /// <summary>The settings.</summary>
    public TrojVqaOptions Options { get; }

    /// <inheritdoc />
    public string Name => "TrojVQA";

    /// <inheritdoc />
    public string? TextKey => Options.TextKey;

    /// <summary>Top-left corner and side of the centred patch in an H x W image.</summary>
    public (long Y, long X, long Side) PatchRegion(long height, long width) => _patch.PatchRegion(height, width, 0, 0);

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0) => _patch.Apply(images, seed);
}
