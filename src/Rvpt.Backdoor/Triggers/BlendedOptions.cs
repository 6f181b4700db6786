using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="BlendedTrigger"/> (Chen et al. 2017).</summary>
public sealed record BlendedOptions
{
    /// <summary>Blend ratio a in <c>(1 - a) * image + a * pattern</c>, in [0, 1]. Default 0.2.</summary>
    public double Alpha { get; init; } = 0.2;

    /// <summary>
    /// Seed of the default uniform-noise pattern, drawn at the image size. Default 0. The pattern is a fixed trigger,
    /// so it depends only on this seed (never on the Apply seed): every row and every call get the same pattern.
    /// </summary>
    public long PatternSeed { get; init; }

    /// <summary>
    /// A user pattern <c>[3, h, w]</c> floating point in [0, 1] on any device, resized bilinearly to the image size;
    /// null (default) uses seeded noise. Not owned: the caller keeps it alive while the trigger is used.
    /// </summary>
    public Tensor? Pattern { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(Alpha >= 0 && Alpha <= 1))
            throw new ArgumentException($"Alpha must be in [0, 1]; got {Alpha}.", nameof(Alpha));
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
