using TorchSharp;

namespace Rvpt;

/// <summary>
/// An in-memory labelled image collection: [N, 3, H, W] images in [0, 1] with int labels, e.g. synthetic data or
/// images already decoded elsewhere.
/// </summary>
/// <remarks>
/// The constructor copies the images to a float32 CPU tensor that this instance owns (the caller keeps ownership of
/// the tensors passed in and may dispose them at once); dispose the dataset to free the copy. Labels are copied to
/// an array. <see cref="LoadPixels01"/> may be called from several threads, but not after or during
/// <see cref="Dispose"/>.
/// </remarks>
public sealed class TensorDataset : ILabeledImageSource, IDisposable
{
    private readonly torch.Tensor images;
    private readonly int[] labels;
    private bool disposed;

    /// <summary>Validates and copies the data.</summary>
    /// <param name="images">A floating-point [N, 3, H, W] tensor with values in [0, 1] (any device).</param>
    /// <param name="labels">An integer [N] tensor with values in <c>[0, classNames.Count)</c> (any device).</param>
    /// <param name="classNames">The class names: non-blank and distinct.</param>
    /// <exception cref="ArgumentException">A shape, dtype or class name is wrong, an image holds NaN/infinity or a value outside [0, 1], or a label is out of range; the message names the offending index.</exception>
    public TensorDataset(torch.Tensor images, torch.Tensor labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        ClassNames = ValidateClassNames(classNames);

        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] == 0 || images.shape[3] == 0 || !torch.is_floating_point(images))
            throw new ArgumentException($"Expected floating-point images [N, 3, H, W] with H, W > 0, got {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        var count = images.shape[0];
        if (labels.dim() != 1 || labels.shape[0] != count || !IsInteger(labels.dtype))
            throw new ArgumentException($"Expected integer labels [{count}] (one per image), got {labels.dtype} [{string.Join(", ", labels.shape)}].", nameof(labels));
        this.labels = ValidateLabels(labels, ClassNames.Count);

        var copy = images.detach().to(torch.ScalarType.Float32, torch.CPU, copy: true).contiguous();
        try
        {
            ValidatePixels(copy);
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        // Owned by this dataset: a dispose scope around the constructor must not free it.
        this.images = copy.DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public int Count => labels.Length;

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Height of every image.</summary>
    public int Height => (int)images.shape[2];

    /// <summary>Width of every image.</summary>
    public int Width => (int)images.shape[3];

    /// <inheritdoc />
    public int GetLabel(int index)
    {
        CheckIndex(index);
        return labels[index];
    }

    /// <inheritdoc />
    public string Describe(int index)
    {
        CheckIndex(index);
        return $"item {index}";
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The dataset has been disposed.</exception>
    public torch.Tensor LoadPixels01(int index)
    {
        CheckIndex(index);
        ObjectDisposedException.ThrowIf(disposed, this);
        using var view = images[index];
        return view.clone();
    }

    /// <summary>Frees the image copy.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        images.Dispose();
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)labels.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Image index must be in [0, {labels.Length}).");
    }

    private static bool IsInteger(torch.ScalarType type) => type is torch.ScalarType.Int64 or torch.ScalarType.Int32
        or torch.ScalarType.Int16 or torch.ScalarType.Int8 or torch.ScalarType.Byte;

    private static IReadOnlyList<string> ValidateClassNames(IReadOnlyList<string> classNames)
    {
        if (classNames.Count == 0)
            throw new ArgumentException("At least one class name is required.", nameof(classNames));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < classNames.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(classNames[i]))
                throw new ArgumentException($"classNames[{i}] is blank.", nameof(classNames));
            if (!seen.Add(classNames[i]))
                throw new ArgumentException($"classNames[{i}] '{classNames[i]}' appears more than once.", nameof(classNames));
        }
        return Array.AsReadOnly(classNames.ToArray());
    }

    private static int[] ValidateLabels(torch.Tensor labels, int classCount)
    {
        using var cpu = labels.detach().to(torch.ScalarType.Int64, torch.CPU).contiguous();
        var values = cpu.data<long>().ToArray();
        var result = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] < 0 || values[i] >= classCount)
                throw new ArgumentException($"labels[{i}] = {values[i]} is outside [0, {classCount}) ({classCount} class names).", nameof(labels));
            result[i] = (int)values[i];
        }
        return result;
    }

    private static void ValidatePixels(torch.Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        // Per-image flags, so the message can name the first bad image rather than just "somewhere".
        var flat = images.flatten(1);
        var nonFinite = flat.isfinite().logical_not().any(1);
        var outOfRange = flat.lt(0).logical_or(flat.gt(1)).any(1);
        var firstNonFinite = FirstTrue(nonFinite);
        if (firstNonFinite >= 0)
            throw new ArgumentException($"images[{firstNonFinite}] contains NaN or infinity.", "images");
        var firstOutOfRange = FirstTrue(outOfRange);
        if (firstOutOfRange >= 0)
            throw new ArgumentException($"images[{firstOutOfRange}] has values outside [0, 1] (expected unnormalised RGB in [0, 1]; undo any CLIP normalisation first).", "images");
    }

    private static int FirstTrue(torch.Tensor flags)
    {
        var values = flags.data<bool>().ToArray();
        return Array.IndexOf(values, true);
    }
}
