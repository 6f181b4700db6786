using TorchSharp;

namespace Rvpt;

/// <summary>
/// A labelled image collection for training and evaluation: images in a fixed order, each with a class label in
/// <c>[0, ClassNames.Count)</c>.
/// </summary>
/// <remarks>
/// Images are handed out as [3, H, W] float32 CPU tensors in [0, 1] at their stored resolution, so one augmentation
/// pipeline (which works on tensors) serves both file-backed and in-memory data; resizing to the model's input size
/// is the transform's job. Implementations must allow <see cref="LoadPixels01"/> to be called from several threads
/// at once, because <see cref="BatchLoader"/> decodes in parallel.
/// </remarks>
public interface ILabeledImageSource
{
    /// <summary>Number of images.</summary>
    int Count { get; }

    /// <summary>Class names; label <c>i</c> names <c>ClassNames[i]</c>.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>The class label of an image.</summary>
    /// <param name="index">Image index in <c>[0, Count)</c>.</param>
    /// <returns>A label in <c>[0, ClassNames.Count)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    int GetLabel(int index);

    /// <summary>A human-readable name of an image for messages: its file path, or e.g. <c>"item 12"</c>.</summary>
    /// <param name="index">Image index in <c>[0, Count)</c>.</param>
    /// <returns>The description.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    string Describe(int index);

    /// <summary>
    /// Loads an image as a new [3, H, W] float32 CPU tensor with values in [0, 1] (RGB, not normalised, not resized).
    /// </summary>
    /// <param name="index">Image index in <c>[0, Count)</c>.</param>
    /// <returns>A new tensor owned by the caller.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    /// <exception cref="FileNotFoundException">A file-backed image has disappeared.</exception>
    /// <exception cref="InvalidDataException">A file-backed image cannot be decoded; the message names the file.</exception>
    torch.Tensor LoadPixels01(int index);
}
