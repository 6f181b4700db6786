using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// The content of a square patch trigger. Build one with <see cref="Checkerboard"/>, <see cref="White"/>,
/// <see cref="Black"/>, <see cref="Noise"/> or <see cref="FromImage"/>. The pattern is a fixed trigger: it is the
/// same for every row and every call (noise comes from <see cref="NoiseSeed"/>, not from the Apply seed).
/// </summary>
public sealed record PatchPattern
{
    /// <summary>The kind of fill. Default <see cref="PatchPatternKind.Checkerboard"/>.</summary>
    public PatchPatternKind Kind { get; init; } = PatchPatternKind.Checkerboard;

    /// <summary>
    /// Cells per side of the checkerboard. Default 4, so each cell is a quarter of the patch side (4 x 4 pixels for
    /// the 16-pixel patch at 224); on scaled patches cell boundaries are at floor(i * cells / side).
    /// </summary>
    public int CheckerboardCells { get; init; } = 4;

    /// <summary>
    /// Seed of <see cref="PatchPatternKind.RandomNoise"/>. Default 0. The noise is drawn at the patch size at 224
    /// and resized with nearest neighbour, so the same trigger appears (up to resampling) at every image size.
    /// </summary>
    public long NoiseSeed { get; init; }

    /// <summary>
    /// The user pattern for <see cref="PatchPatternKind.Custom"/>: <c>[3, h, w]</c> floating point in [0, 1], any
    /// device. Not owned: the caller keeps it alive while the trigger is used. Default null.
    /// </summary>
    public Tensor? Custom { get; init; }

    /// <summary>A checkerboard with <paramref name="cells"/> cells per side (top-left white).</summary>
    public static PatchPattern Checkerboard(int cells = 4) => new() { Kind = PatchPatternKind.Checkerboard, CheckerboardCells = cells };

    /// <summary>An all-white patch.</summary>
    public static PatchPattern White() => new() { Kind = PatchPatternKind.White };

    /// <summary>An all-black patch.</summary>
    public static PatchPattern Black() => new() { Kind = PatchPatternKind.Black };

    /// <summary>A uniform-noise patch fixed by <paramref name="seed"/>.</summary>
    public static PatchPattern Noise(long seed = 0) => new() { Kind = PatchPatternKind.RandomNoise, NoiseSeed = seed };

    /// <summary>A user pattern <c>[3, h, w]</c> in [0, 1], resized to the patch with nearest neighbour.</summary>
    public static PatchPattern FromImage(Tensor pattern) => new() { Kind = PatchPatternKind.Custom, Custom = pattern };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentException($"Unknown patch pattern kind {Kind}.", nameof(Kind));
        if (Kind == PatchPatternKind.Checkerboard && CheckerboardCells < 1)
            throw new ArgumentException($"CheckerboardCells must be >= 1; got {CheckerboardCells}.", nameof(CheckerboardCells));
        if (Kind != PatchPatternKind.Custom) return;
        if (Custom is null)
            throw new ArgumentException("A Custom patch pattern needs a [3, h, w] tensor; got null.", nameof(Custom));
        var shape = Custom.shape;
        if (shape.Length != 3 || shape[0] != 3 || shape[1] < 1 || shape[2] < 1)
            throw new ArgumentException($"Custom patch pattern must be [3, h, w]; got shape [{string.Join(", ", shape)}].", nameof(Custom));
        if (!is_floating_point(Custom.dtype))
            throw new ArgumentException($"Custom patch pattern must be floating point; got {Custom.dtype}.", nameof(Custom));
        using var scope = NewDisposeScope();
        var min = Custom.min().item<float>();
        var max = Custom.max().item<float>();
        if (!(min >= 0f && max <= 1f))
            throw new ArgumentException($"Custom patch pattern must lie in [0, 1]; got values in [{min}, {max}].", nameof(Custom));
    }

    /// <summary>
    /// Renders the pattern as <c>[3, side, side]</c> on <paramref name="device"/> in <paramref name="dtype"/>;
    /// <paramref name="sideAt224"/> is the unscaled patch side (the noise resolution).
    /// </summary>
    internal Tensor Render(long side, int sideAt224, Device device, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor result;
        switch (Kind)
        {
            case PatchPatternKind.White:
                result = ones(new long[] { 3, side, side }, dtype, device);
                break;
            case PatchPatternKind.Black:
                result = zeros(new long[] { 3, side, side }, dtype, device);
                break;
            case PatchPatternKind.Checkerboard:
            {
                // Cell index of each pixel: floor(i * cells / side), so cells tile the patch even when side % cells != 0.
                var cell = arange(side, ScalarType.Int64, device).mul(CheckerboardCells).div(side, rounding_mode: RoundingMode.floor);
                var parity = cell.unsqueeze(1).add(cell.unsqueeze(0)).remainder(2);
                result = parity.eq(0).to_type(dtype).unsqueeze(0).expand(3, side, side).contiguous();
                break;
            }
            case PatchPatternKind.RandomNoise:
            {
                var noise = TriggerRandom.CpuUniform(NoiseSeed, 1, 3, sideAt224, sideAt224).to(dtype, device);
                result = Resize(noise, side);
                break;
            }
            case PatchPatternKind.Custom:
                result = Resize(Custom!.to(dtype, device).unsqueeze(0), side);
                break;
            default:
                throw new ArgumentException($"Unknown patch pattern kind {Kind}.", nameof(Kind));
        }
        return result.MoveToOuterDisposeScope();
    }

    // Nearest keeps the pattern's exact values (no new colours at cell edges); [1, 3, h, w] -> [3, side, side].
    private static Tensor Resize(Tensor batchOfOne, long side) =>
        batchOfOne.shape[2] == side && batchOfOne.shape[3] == side
            ? batchOfOne.squeeze(0).clone()
            : nn.functional.interpolate(batchOfOne, new[] { side, side }, mode: InterpolationMode.Nearest).squeeze(0);
}
