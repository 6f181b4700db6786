namespace Rvpt.Backdoor;

/// <summary>Settings of <see cref="TrojVqaTrigger"/> (Walmer et al. 2022).</summary>
public sealed record TrojVqaOptions
{
    /// <summary>Side of the centred patch in pixels at 224 (scaled like <see cref="BadNetsOptions.PatchSize"/>). Default 16.</summary>
    public int PatchSize { get; init; } = 16;

    /// <summary>Fill of the patch. Default seeded uniform noise (<see cref="PatchPattern.Noise"/> with seed 0).</summary>
    public PatchPattern Pattern { get; init; } = PatchPattern.Noise();

    /// <summary>
    /// The text key poisoned captions and (at evaluation) class prompts carry (non-empty). Default "remember ", as
    /// BadCLIP's code; Rvpt's earlier default was "SUDO ".
    /// </summary>
    public string TextKey { get; init; } = "remember ";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(TextKey))
            throw new ArgumentException("TextKey must be a non-empty string.", nameof(TextKey));
        ToBadNets().Validate();
    }

    /// <summary>The equivalent image part: a BadNets patch fixed at the centre.</summary>
    internal BadNetsOptions ToBadNets() =>
        new() { PatchSize = PatchSize, Pattern = Pattern, Position = PatchPosition.Named(PatchPositionKind.Centre) };
}
