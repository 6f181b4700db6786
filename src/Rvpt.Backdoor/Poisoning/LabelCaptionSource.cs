using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Image-caption pairs made from a labelled image set: the caption of an image is its class name in a template
/// (default "a photo of a {}."). CleanCLIP on a real model needs clean pairs; an image folder has labels but no
/// captions, so this is the stand-in: <c>CleanClip.Fit(model, new LabelCaptionSource(pool), options)</c>.
/// </summary>
/// <param name="images">The labelled images (not owned).</param>
/// <param name="template">The caption template; <c>{}</c> is replaced by the class name.</param>
public sealed class LabelCaptionSource(ILabeledImageSource images, string template = "a photo of a {}.") : IImageCaptionSource
{
    private readonly ILabeledImageSource _images = images ?? throw new ArgumentNullException(nameof(images));

    /// <inheritdoc />
    public int Count => _images.Count;

    /// <inheritdoc />
    public string GetCaption(int index) => PromptTemplates.Format(template, _images.ClassNames[_images.GetLabel(index)]);

    /// <inheritdoc />
    public Tensor LoadPixels01(int index) => _images.LoadPixels01(index);

    /// <inheritdoc />
    public string Describe(int index) => _images.Describe(index);
}
