using TorchSharp;

namespace Rvpt;

/// <summary>
/// A view of some images of another source, in a given order (e.g. a few-shot sample). It does not own the parent:
/// keep the parent alive (and undisposed) while the view is used.
/// </summary>
public sealed class SubsetSource : ILabeledImageSource
{
    private readonly int[] indices;

    /// <summary>Creates a view.</summary>
    /// <param name="parent">The source the images come from.</param>
    /// <param name="indices">Parent indices; entry i is image i of the view. Repeats are allowed.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside <c>[0, parent.Count)</c>; the message names its position.</exception>
    public SubsetSource(ILabeledImageSource parent, IEnumerable<int> indices)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(indices);
        Parent = parent;
        this.indices = indices.ToArray();
        for (var i = 0; i < this.indices.Length; i++)
        {
            if ((uint)this.indices[i] >= (uint)parent.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), this.indices[i], $"indices[{i}] = {this.indices[i]} is outside the parent's [0, {parent.Count}).");
        }
        Indices = Array.AsReadOnly(this.indices);
    }

    /// <summary>The source the images come from.</summary>
    public ILabeledImageSource Parent { get; }

    /// <summary>The parent index of each image of the view.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <inheritdoc />
    public int Count => indices.Length;

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames => Parent.ClassNames;

    /// <inheritdoc />
    public int GetLabel(int index) => Parent.GetLabel(ParentIndex(index));

    /// <inheritdoc />
    public string Describe(int index) => Parent.Describe(ParentIndex(index));

    /// <inheritdoc />
    public torch.Tensor LoadPixels01(int index) => Parent.LoadPixels01(ParentIndex(index));

    /// <summary>The parent index of image <paramref name="index"/> of the view.</summary>
    /// <param name="index">Index in <c>[0, Count)</c>.</param>
    /// <returns>The parent index.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public int ParentIndex(int index)
    {
        if ((uint)index >= (uint)indices.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Image index must be in [0, {indices.Length}).");
        return indices[index];
    }
}
