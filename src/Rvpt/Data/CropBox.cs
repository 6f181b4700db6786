namespace Rvpt;

/// <summary>A rectangle of an image in pixels, as torchvision's <c>RandomResizedCrop.get_params</c> returns it.</summary>
/// <param name="Top">First row.</param>
/// <param name="Left">First column.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
internal readonly record struct CropBox(int Top, int Left, int Height, int Width);
