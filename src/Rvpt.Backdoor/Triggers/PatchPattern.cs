using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// The content of a square patch trigger. Build one with <see cref="ImageMeanNoise"/> (CleanCLIP's "random" patch),
/// <see cref="Checkerboard"/>, <see cref="White"/>, <see cref="Black"/>, <see cref="Yellow"/>, <see cref="Noise"/>,
/// <see cref="FromImage"/> or <see cref="FromFile"/>. All but <see cref="PatchPatternKind.ImageMeanNoise"/> are fixed
/// triggers, the same for every row and every call (noise comes from <see cref="NoiseSeed"/>, not from the Apply
/// seed); <see cref="PatchPatternKind.ImageMeanNoise"/> is drawn per image from the Apply seed and the row.
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

    /// <summary>
    /// How values outside [0, 1] of <see cref="PatchPatternKind.ImageMeanNoise"/> are stored. Default
    /// <see cref="PatchOverflow.WrapAsUint8"/>, as the published code's uint8 conversion does.
    /// </summary>
    public PatchOverflow Overflow { get; init; } = PatchOverflow.WrapAsUint8;

    /// <summary>
    /// CleanCLIP's "random" patch: per image, the image's per-channel mean plus N(0, 1) noise drawn per image
    /// (<c>backdoor/utils.py</c>, <c>apply_trigger</c>, patch_type "random").
    /// </summary>
    public static PatchPattern ImageMeanNoise(PatchOverflow overflow = PatchOverflow.WrapAsUint8) =>
        new() { Kind = PatchPatternKind.ImageMeanNoise, Overflow = overflow };

    /// <summary>CleanCLIP's "yellow" patch (red and green 1, blue 0).</summary>
    public static PatchPattern Yellow() => new() { Kind = PatchPatternKind.Yellow };

    /// <summary>
    /// A patch image read from <paramref name="path"/> (PNG, JPEG, BMP, ...; RGB in [0, 1]), resized to the patch with
    /// nearest neighbour. The pattern holds the decoded tensor (float32, CPU) for its lifetime.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable image.</exception>
    public static PatchPattern FromFile(string path) => FromImage(TriggerImageFile.Load(path));

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
        if (!Enum.IsDefined(Overflow))
            throw new ArgumentException($"Unknown patch overflow rule {Overflow}.", nameof(Overflow));
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

    /// <summary>True when the pattern is drawn per image (<see cref="PatchPatternKind.ImageMeanNoise"/>).</summary>
    internal bool IsPerImage => Kind == PatchPatternKind.ImageMeanNoise;

    /// <summary>
    /// CleanCLIP's per-image patch <c>[3, side, side]</c>: the per-channel mean of <paramref name="image"/>
    /// <c>[3, H, W]</c> plus <paramref name="noise"/> <c>[3, side, side]</c>, with out-of-range values handled per
    /// <see cref="Overflow"/>.
    /// </summary>
    internal Tensor RenderForImage(Tensor image, Tensor noise)
    {
        using var scope = NewDisposeScope();
        var patch = image.mean(new long[] { 1, 2 }, keepdim: true).add(noise.to(image.dtype, image.device));
        patch = Overflow == PatchOverflow.Clamp ? patch.clamp(0, 1) : TriggeredImage.ToUint8RoundTrip(patch);
        return patch.MoveToOuterDisposeScope();
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
            case PatchPatternKind.Yellow:
                result = cat(new[] { ones(new long[] { 2, side, side }, dtype, device), zeros(new long[] { 1, side, side }, dtype, device) }, 0);
                break;
            case PatchPatternKind.Checkerboard:
            {
                // Cell index of each pixel: floor(i * cells / side), so cells tile the patch even when side % cells != 0.
                var cell = arange(side, ScalarType.Int64, device).mul(CheckerboardCells).div(side, rounding_mode: RoundingMode.floor);
                // Parity of row cell + column cell as the low bit of their xor: an integer add passes libtorch an
                // alpha Scalar, which failed on planting's worker threads as "floating point alpha for integral input".
                var parity = cell.unsqueeze(1).bitwise_xor(cell.unsqueeze(0)).bitwise_and(1);
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
                throw new ArgumentException($"Patch pattern kind {Kind} has no fixed rendering.", nameof(Kind));
        }
        return result.MoveToOuterDisposeScope();
    }

    // Nearest keeps the pattern's exact values (no new colours at cell edges); [1, 3, h, w] -> [3, side, side].
    private static Tensor Resize(Tensor batchOfOne, long side) =>
        batchOfOne.shape[2] == side && batchOfOne.shape[3] == side
            ? batchOfOne.squeeze(0).clone()
            : nn.functional.interpolate(batchOfOne, new[] { side, side }, mode: InterpolationMode.Nearest).squeeze(0);
}
