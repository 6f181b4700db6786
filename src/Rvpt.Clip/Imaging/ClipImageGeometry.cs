namespace Rvpt.Clip;

/// <summary>
/// Where CLIP's preprocessing takes its pixels from: the size torchvision's <c>Resize(S)</c> gives the image and
/// the offset of the <c>CenterCrop(S)</c> window in the resized image. Useful to map coordinates between the
/// original image and the model input.
/// </summary>
/// <param name="SourceWidth">Width of the decoded image.</param>
/// <param name="SourceHeight">Height of the decoded image.</param>
/// <param name="ResizedWidth">Width after <c>Resize(S)</c>.</param>
/// <param name="ResizedHeight">Height after <c>Resize(S)</c>.</param>
/// <param name="CropTop">Row of the resized image at the crop's top edge; negative when the crop is zero-padded.</param>
/// <param name="CropLeft">Column of the resized image at the crop's left edge; negative when the crop is zero-padded.</param>
/// <param name="CropSize">Side S of the square crop.</param>
public readonly record struct ClipImageGeometry(
    int SourceWidth, int SourceHeight, int ResizedWidth, int ResizedHeight, int CropTop, int CropLeft, int CropSize)
{
    /// <summary>Whether resampling is needed; torchvision and Pillow skip a resize to the same size.</summary>
    public bool NeedsResize => ResizedWidth != SourceWidth || ResizedHeight != SourceHeight;

    /// <summary>
    /// Computes torchvision 0.14's geometry for <c>Resize(size)</c> (an int: the short side becomes
    /// <paramref name="size"/>, the long side <c>int(size * long / short)</c>, truncated) followed by
    /// <c>CenterCrop(size)</c> (offsets <c>round((resized - size) / 2)</c>, half to even like Python's <c>round</c>;
    /// zero padding like torchvision's when the image is smaller than the crop, which cannot happen after the resize).
    /// </summary>
    /// <param name="width">Source width in pixels.</param>
    /// <param name="height">Source height in pixels.</param>
    /// <param name="size">Target side S.</param>
    /// <returns>The resize target and crop offsets.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or the aspect ratio is so extreme that the resized long side exceeds <see cref="int.MaxValue"/>.</exception>
    public static ClipImageGeometry Compute(int width, int height, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);

        var portrait = width <= height;
        var (shortSide, longSide) = portrait ? (width, height) : (height, width);
        // Python's int(size * long / short): exact integer product, correctly rounded division, truncation.
        // When the short side already equals size this gives the long side back, i.e. no resize.
        var scaledLong = (double)((long)size * longSide) / shortSide;
        if (scaledLong >= int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(width),
                $"A {width} x {height} image resized to short side {size} would have a long side of {scaledLong:F0} pixels, too large to process.");
        var newLong = (int)scaledLong;
        var (resizedWidth, resizedHeight) = portrait ? (size, newLong) : (newLong, size);

        return new ClipImageGeometry(width, height, resizedWidth, resizedHeight,
            CropOffset(resizedHeight, size), CropOffset(resizedWidth, size), size);
    }

    /// <summary>torchvision's centre-crop offset along one axis (negative: zero padding before the image).</summary>
    internal static int CropOffset(int extent, int crop)
    {
        // torchvision pads a too-small side symmetrically (the extra pixel goes right/bottom) and then crops at 0,
        // which is a read starting at -padBefore.
        if (extent < crop)
            return -((crop - extent) / 2);
        // int(round((extent - crop) / 2.0)): Math.Round's default MidpointRounding.ToEven matches Python (56.5 -> 56).
        return (int)Math.Round((extent - crop) / 2.0);
    }
}
