namespace Rvpt;

/// <summary>Settings of <see cref="BatchLoader"/>.</summary>
public sealed record BatchLoaderOptions
{
    /// <summary>Images per batch. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Whether each epoch visits the images in a fresh seeded random order. Default <see langword="true"/>.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>
    /// Whether to apply <see cref="CoOpAugmentation"/> (training) instead of <see cref="ClipEvalTransform"/>
    /// (resize + centre crop). Default <see langword="true"/>.
    /// </summary>
    public bool Augment { get; init; } = true;

    /// <summary>Settings of the augmentation when <see cref="Augment"/> is on. Default: CoOp's.</summary>
    public CoOpAugmentationOptions Augmentation { get; init; } = new();

    /// <summary>Whether to drop the last batch when it is smaller than <see cref="BatchSize"/>. Default <see langword="false"/> (kept).</summary>
    public bool DropLast { get; init; }

    /// <summary>Base seed of the shuffling and augmentation; combined with the epoch number. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Most images decoded and augmented at the same time. Default <see cref="Environment.ProcessorCount"/>.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Most finished batches waiting for the consumer (memory bound of the prefetching). Default 2.</summary>
    public int PrefetchBatches { get; init; } = 2;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (BatchSize < 1)
            throw new ArgumentException($"{nameof(BatchSize)} must be >= 1, got {BatchSize}.");
        if (MaxDegreeOfParallelism < 1)
            throw new ArgumentException($"{nameof(MaxDegreeOfParallelism)} must be >= 1, got {MaxDegreeOfParallelism}.");
        if (PrefetchBatches < 1)
            throw new ArgumentException($"{nameof(PrefetchBatches)} must be >= 1, got {PrefetchBatches}.");
        if (Augmentation is null)
            throw new ArgumentException($"{nameof(Augmentation)} must not be null.");
        Augmentation.Validate();
    }
}
