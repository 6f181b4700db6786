namespace Rvpt.Clip;

/// <summary>Text templates for zero-shot class prompts; <c>{}</c> stands for the class name.</summary>
public static class PromptTemplates
{
    /// <summary>The single template <c>"a photo of a {}."</c> (the paper's RVPT setting).</summary>
    public static IReadOnlyList<string> APhotoOfA { get; } = new[] { "a photo of a {}." };

    /// <summary>OpenAI's 80 ImageNet prompt templates (the CLIP paper's prompt ensemble), in their original order.</summary>
    public static IReadOnlyList<string> ImageNet { get; } = new[]
    {
        "a bad photo of a {}.", "a photo of many {}.", "a sculpture of a {}.", "a photo of the hard to see {}.",
        "a low resolution photo of the {}.", "a rendering of a {}.", "graffiti of a {}.", "a bad photo of the {}.",
        "a cropped photo of the {}.", "a tattoo of a {}.", "the embroidered {}.", "a photo of a hard to see {}.",
        "a bright photo of a {}.", "a photo of a clean {}.", "a photo of a dirty {}.", "a dark photo of the {}.",
        "a drawing of a {}.", "a photo of my {}.", "the plastic {}.", "a photo of the cool {}.",
        "a close-up photo of a {}.", "a black and white photo of the {}.", "a painting of the {}.", "a painting of a {}.",
        "a pixelated photo of the {}.", "a sculpture of the {}.", "a bright photo of the {}.", "a cropped photo of a {}.",
        "a plastic {}.", "a photo of the dirty {}.", "a jpeg corrupted photo of a {}.", "a blurry photo of the {}.",
        "a photo of the {}.", "a good photo of the {}.", "a rendering of the {}.", "a {} in a video game.",
        "a photo of one {}.", "a doodle of a {}.", "a close-up photo of the {}.", "a photo of a {}.",
        "the origami {}.", "the {} in a video game.", "a sketch of a {}.", "a doodle of the {}.",
        "a origami {}.", "a low resolution photo of a {}.", "the toy {}.", "a rendition of the {}.",
        "a photo of the clean {}.", "a photo of a large {}.", "a rendition of a {}.", "a photo of a nice {}.",
        "a photo of a weird {}.", "a blurry photo of a {}.", "a cartoon {}.", "art of a {}.",
        "a sketch of the {}.", "a embroidered {}.", "a pixelated photo of a {}.", "itap of the {}.",
        "a jpeg corrupted photo of the {}.", "a good photo of a {}.", "a plushie {}.", "a photo of the nice {}.",
        "a photo of the small {}.", "a photo of the weird {}.", "the cartoon {}.", "art of the {}.",
        "a drawing of the {}.", "a photo of the large {}.", "a black and white photo of a {}.", "the plushie {}.",
        "a dark photo of a {}.", "itap of a {}.", "graffiti of the {}.", "a toy {}.",
        "itap of my {}.", "a photo of a cool {}.", "a photo of a small {}.", "a tattoo of the {}.",
    };

    /// <summary>Fills <paramref name="template"/> with <paramref name="className"/>.</summary>
    /// <exception cref="ArgumentException">The template has no <c>{}</c> placeholder.</exception>
    public static string Format(string template, string className)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(className);
        if (!template.Contains("{}", StringComparison.Ordinal))
            throw new ArgumentException($"Template '{template}' has no '{{}}' placeholder for the class name.", nameof(template));
        return template.Replace("{}", className, StringComparison.Ordinal);
    }
}
