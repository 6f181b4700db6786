namespace Rvpt.Backdoor;

/// <summary>
/// Geometry of an <see cref="IssbaModel"/>: the StegaStamp encoder's and decoder's image size, secret length and base
/// width. Defaults are the small model for the 32-pixel synthetic world; <see cref="At224"/> is the size ISSBA runs at
/// on CLIP.
/// </summary>
public sealed record IssbaModelOptions
{
    /// <summary>Side S of the square images the model encodes and decodes; a multiple of 32. Default 32.</summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>
    /// Bits of the secret. Default 20 (BackdoorBox's ISSBA on 32-pixel CIFAR-10); ISSBA on ImageNet-size images uses
    /// StegaStamp's 100 (56 data bits of "Stega!!" plus BCH parity and padding).
    /// </summary>
    public int SecretBits { get; init; } = 20;

    /// <summary>
    /// Channels of the first convolutions; deeper layers use 2, 4 and 8 times as many. Default 16, half StegaStamp's
    /// widths (32, 64, 128, 256), so the 32-pixel model trains in minutes on 2 CPU cores; <see cref="At224"/> uses 32.
    /// </summary>
    public int Width { get; init; } = 16;

    /// <summary>Seed of the weight initialisation. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>ISSBA at CLIP's 224 x 224 with StegaStamp's 100-bit secret and widths.</summary>
    public static IssbaModelOptions At224 { get; } = new() { ImageSize = 224, SecretBits = 100, Width = 32 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (ImageSize < 32 || ImageSize % 32 != 0)
            throw new ArgumentException($"ImageSize must be a positive multiple of 32 (four stride-2 encoder stages and five decoder stages); got {ImageSize}.", nameof(ImageSize));
        if (SecretBits < 1)
            throw new ArgumentException($"SecretBits must be >= 1; got {SecretBits}.", nameof(SecretBits));
        if (Width < 1)
            throw new ArgumentException($"Width must be >= 1; got {Width}.", nameof(Width));
    }
}
