namespace Rvpt.Backdoor;

/// <summary>How <see cref="CleanClip"/> makes the augmented image view of each clean pair.</summary>
public enum CleanClipImageView
{
    /// <summary>
    /// CleanCLIP's code (<c>utils/augment_image.py</c>, <c>src/data.py</c>): torchvision's AutoAugment with the ImageNet
    /// policy on the image at its stored size (<see cref="Rvpt.AutoAugment"/>, settings in
    /// <see cref="CleanClipOptions.AutoAugment"/>), then CLIP's resize and centre crop, as the plain view. The default.
    /// </summary>
    AutoAugment,

    /// <summary>
    /// A random resized crop to the model's input size and a horizontal flip (<see cref="CoOpAugmentation"/>, settings
    /// in <see cref="CleanClipOptions.ImageAugmentation"/>): Rvpt's view before it followed CleanCLIP's code.
    /// </summary>
    RandomResizedCropFlip,
}
