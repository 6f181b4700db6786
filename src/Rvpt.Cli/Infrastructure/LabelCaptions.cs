using Rvpt.Backdoor;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Cli;

/// <summary>
/// Image-caption pairs for CleanCLIP made from a labelled image folder: the caption of an image is "a photo of a
/// {class}." (an image folder has labels, not captions).
/// </summary>
internal sealed class LabelCaptions(ILabeledImageSource images) : IImageCaptionSource
{
    public int Count => images.Count;

    public string GetCaption(int index) => PromptTemplates.Format("a photo of a {}.", images.ClassNames[images.GetLabel(index)]);

    public Tensor LoadUnitImage(int index) => images.LoadUnitImage(index);

    public string Describe(int index) => images.Describe(index);
}
