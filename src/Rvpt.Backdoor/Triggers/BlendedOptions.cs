using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Settings of <see cref="BlendedTrigger"/> (Chen et al. 2017). Defaults are CleanCLIP's attack code: ratio 0.2 and
/// fresh uniform noise per image. Rvpt's earlier default, one fixed noise pattern, is
/// <c>new BlendedOptions { Noise = BlendedNoise.Fixed }</c>.
/// </summary>
public sealed record BlendedOptions
{
    /// <summary>Blend ratio a in <c>(1 - a) * image + a * pattern</c>, in [0, 1]. Default 0.2.</summary>
    public double Alpha { get; init; } = 0.2;

    /// <summary>Per-image or fixed noise, when <see cref="Pattern"/> is null. Default <see cref="BlendedNoise.PerImage"/> (CleanCLIP).</summary>
    public BlendedNoise Noise { get; init; } = BlendedNoise.PerImage;

    /// <summary>
    /// Seed of the <see cref="BlendedNoise.Fixed"/> uniform-noise pattern, drawn at the image size. Default 0. That
    /// pattern depends only on this seed (never on the Apply seed): every row and every call get the same pattern.
    /// </summary>
    public long PatternSeed { get; init; }

    /// <summary>
    /// A user pattern <c>[3, h, w]</c> floating point in [0, 1] on any device, resized bilinearly to the image size;
    /// null (default) uses noise (<see cref="Noise"/>). Not owned: the caller keeps it alive while the trigger is used.
    /// </summary>
    public Tensor? Pattern { get; init; }

    /// <summary>
    /// A blend image read from <paramref name="path"/> (PNG, JPEG, ...) mixed in with ratio <paramref name="alpha"/>
    /// (BadCLIP's "blended_kitty"/"blended_banana" triggers; its code resizes the image with Pillow's bicubic filter,
    /// Rvpt bilinearly). The options hold the decoded tensor for their lifetime.
    /// </summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable image.</exception>
    public static BlendedOptions FromFile(string path, double alpha = 0.2) => new() { Pattern = TriggerImageFile.Load(path), Alpha = alpha };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(Alpha >= 0 && Alpha <= 1))
            throw new ArgumentException($"Alpha must be in [0, 1]; got {Alpha}.", nameof(Alpha));
        if (!Enum.IsDefined(Noise))
            throw new ArgumentException($"Unknown blended noise {Noise}.", nameof(Noise));
        if (Pattern is null) return;
        var shape = Pattern.shape;
        if (shape.Length != 3 || shape[0] != 3 || shape[1] < 1 || shape[2] < 1)
            throw new ArgumentException($"Pattern must be [3, h, w]; got shape [{string.Join(", ", shape)}].", nameof(Pattern));
        if (!is_floating_point(Pattern.dtype))
            throw new ArgumentException($"Pattern must be floating point; got {Pattern.dtype}.", nameof(Pattern));
        using var scope = NewDisposeScope();
        var min = Pattern.min().item<float>();
        var max = Pattern.max().item<float>();
        if (!(min >= 0f && max <= 1f))
            throw new ArgumentException($"Pattern must lie in [0, 1]; got values in [{min}, {max}].", nameof(Pattern));
    }
}
