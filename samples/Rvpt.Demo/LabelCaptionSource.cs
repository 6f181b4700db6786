using Rvpt.Backdoor;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Demo;

/// <summary>
/// Image-caption pairs made from a labelled image set: the caption of an image is "a photo of a {class}.". CleanCLIP
/// on a real model needs clean pairs; an image folder has labels but no captions, so this is the stand-in.
/// </summary>
internal sealed class LabelCaptionSource(ILabeledImageSource images) : IImageCaptionSource
{
    public int Count => images.Count;

    public string GetCaption(int index) => PromptTemplates.Format("a photo of a {}.", images.ClassNames[images.GetLabel(index)]);

    public Tensor LoadUnitImage(int index) => images.LoadUnitImage(index);

    public string Describe(int index) => images.Describe(index);
}
