using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="WaNetTrigger"/> (Nguyen &amp; Tran, ICLR 2021). Defaults are the RVPT paper's and CleanCLIP's
/// (<c>backdoor/utils.py</c>, patch_type "warped"): k equal to the image height (224 at 224), s = 1, grid rescale 1.
/// Rvpt's earlier default, WaNet's CIFAR setting, is <c>new WaNetOptions { GridSize = 4, Strength = 0.5 }</c>.
/// </summary>
public sealed record WaNetOptions
{
    /// <summary>
    /// Side k of the k x k control grid of random offsets (&gt;= 1), or null (default) for k = the image height, as
    /// CleanCLIP's k = input height = 224. WaNet's own CIFAR-10 value is 4.
    /// </summary>
    public int? GridSize { get; init; }

    /// <summary>Warping strength s (finite, &gt;= 0; 0 is the identity). Default 1 (the paper, CleanCLIP); WaNet's CIFAR value is 0.5.</summary>
    public double Strength { get; init; } = 1.0;

    /// <summary>WaNet's grid_rescale: the sampling grid is multiplied by it before the clamp to [-1, 1]. Default 1.</summary>
    public double GridRescale { get; init; } = 1.0;

    /// <summary>Seed of the control-grid noise. Default 0. The field is fixed per trigger: the Apply seed is not used.</summary>
    public long FieldSeed { get; init; }

    /// <summary>
    /// The attacker's saved noise grid <c>[1, H, W, 2]</c> (the upsampled, normalised offsets before scaling by s / H), used
    /// instead of drawing one from <see cref="FieldSeed"/>; images must then be H x W. Not owned: the caller keeps it
    /// alive while the trigger is used. Default null. <see cref="FromNoiseGridFile"/> reads CleanCLIP's
    /// <c>noise_grid_k=224_s=1_inputheight=224_gridrescale=1.pt</c>.
    /// (Not part of the options' JSON form: a tensor has none; settings keys that serialise these options, such as the
    /// synthetic lab's, do not see it.)
    /// </summary>
    [JsonIgnore]
    public Tensor? NoiseGrid { get; init; }

    /// <summary>
    /// Options that warp with the noise grid saved in <paramref name="path"/>: a <c>torch.save</c> file of one tensor
    /// (as CleanCLIP's <c>backdoor/noise_grid_k=224_s=1_inputheight=224_gridrescale=1.pt</c>), or a safetensors file
    /// holding one tensor. The options hold the tensor (float32, CPU) for their lifetime.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file holds no single <c>[1, H, W, 2]</c> floating-point tensor.</exception>
    public static WaNetOptions FromNoiseGridFile(string path, double strength = 1.0, double gridRescale = 1.0)
    {
        var grid = NoiseGridFile.Load(path);
        var shape = grid.shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[3] != 2 || shape[1] < 1 || shape[2] < 1)
        {
            grid.Dispose();
            throw new InvalidDataException($"'{path}': a WaNet noise grid must be [1, H, W, 2]; got [{string.Join(", ", shape)}].");
        }
        return new WaNetOptions { NoiseGrid = grid, Strength = strength, GridRescale = gridRescale };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (GridSize is < 1)
            throw new ArgumentException($"GridSize must be >= 1 (or null for the image height); got {GridSize}.", nameof(GridSize));
        if (!(Strength >= 0) || double.IsInfinity(Strength))
            throw new ArgumentException($"Strength must be finite and >= 0; got {Strength}.", nameof(Strength));
        if (!(GridRescale > 0) || double.IsInfinity(GridRescale))
            throw new ArgumentException($"GridRescale must be finite and > 0; got {GridRescale}.", nameof(GridRescale));
        if (NoiseGrid is null) return;
        var shape = NoiseGrid.shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[3] != 2 || shape[1] < 1 || shape[2] < 1 || !is_floating_point(NoiseGrid.dtype))
            throw new ArgumentException($"NoiseGrid must be a floating-point [1, H, W, 2] tensor; got {NoiseGrid.dtype} [{string.Join(", ", shape)}].", nameof(NoiseGrid));
    }
}
