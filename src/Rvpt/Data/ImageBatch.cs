using TorchSharp;

namespace Rvpt;

/// <summary>
/// One batch from <see cref="BatchLoader"/>: images, labels and where they came from. The batch owns its tensors,
/// which belong to no dispose scope; the consumer disposes the batch (typically at the end of the training step).
/// </summary>
public sealed class ImageBatch : IDisposable
{
    internal ImageBatch(torch.Tensor images, torch.Tensor labels, IReadOnlyList<int> indices)
    {
        Images = images;
        Labels = labels;
        Indices = indices;
    }

    /// <summary>Normalised images, [B, 3, S, S] float32 on the CPU.</summary>
    public torch.Tensor Images { get; }

    /// <summary>Labels, [B] int64 on the CPU.</summary>
    public torch.Tensor Labels { get; }

    /// <summary>The source index of each row.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>Number of images.</summary>
    public int Count => Indices.Count;

    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
