using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Keeps the shared trunk's output (<see cref="DeepPromptInjector.RunSharedTrunk"/>: patch embedding and blocks
/// 1..D, every token) per sample, so that later epochs skip the trunk and start at block D + 1. Valid only while a
/// sample's input image is the same every time, i.e. with augmentation off: the trunk is frozen, so its output for a
/// fixed image never changes, and the cached rows are the very values the trunk computed (training with the cache
/// gives bit-identical prompts).
/// </summary>
/// <remarks>
/// <para>
/// Keyed by the sample index in the training source (<see cref="ImageBatch.Indices"/>). A batch whose samples are all
/// cached is a gather from the cache; otherwise the trunk runs on the whole batch and its rows are stored.
/// </para>
/// <para>
/// Memory: <c>samples x (1 + grid²) x width</c> values in the compute dtype, on the model's device, allocated at the
/// first store. ViT-B/32 (50 tokens x 768): 150 KiB per image in float32, 75 KiB in bfloat16; 16 shots x 1000 classes
/// (16,000 images): 2.46 GB in float32, <b>1.23 GB in bfloat16</b>; 16 shots x 100 classes: 246 MB / 123 MB. That is
/// about 5.6x the <see cref="FrozenClassTokenCache"/> of the same run at D = 3. The trunk output of one image is the
/// input of every prompted step on it, which is why it is worth the memory only when the same image comes back.
/// </para>
/// <para><see cref="FewShotTrainer"/> uses one with <see cref="TrainingOptions.CacheSharedTrunk"/>; a custom loop can
/// too. Not thread-safe; dispose it to free the cached tensor.</para>
/// </remarks>
internal sealed class SharedTrunkCache : IDisposable
{
    private readonly SampleRowCache _rows;

    /// <summary>Creates an empty cache for samples <c>0..samples-1</c>.</summary>
    /// <param name="samples">Number of samples in the training source.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is negative.</exception>
    public SharedTrunkCache(int samples) => _rows = new SampleRowCache(samples, "the shared trunk");

    /// <summary>Number of samples whose trunk output is cached.</summary>
    public int CachedSamples => _rows.CachedSamples;

    /// <summary>Images run through the trunk by <see cref="GetOrCompute"/> so far (cache misses, per image).</summary>
    public long ImagesEncoded => _rows.ImagesEncoded;

    /// <summary>Bytes the cached tensor holds (0 before the first store; then the whole cache, filled or not).</summary>
    public long Bytes => _rows.Bytes;

    /// <summary>
    /// The trunk output <c>[batch, tokens, width]</c> of the samples <paramref name="indices"/>: gathered from the
    /// cache when every one is there, else <paramref name="runTrunk"/>'s result for the whole batch, which is stored.
    /// The result belongs to the caller's dispose scope and carries no gradient.
    /// </summary>
    /// <param name="indices">Sample index of each row of the batch.</param>
    /// <param name="runTrunk">Runs the trunk on the batch (typically <c>() => prompts.RunSharedTrunk(images)</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the cache.</exception>
    /// <exception cref="ArgumentException">The trunk returned a tensor whose rows do not match the indices, or whose
    /// shape, dtype or device differs from the cached rows.</exception>
    public Tensor GetOrCompute(IReadOnlyList<int> indices, Func<Tensor> runTrunk) =>
        _rows.GetOrCompute(indices, runTrunk, nameof(runTrunk));

    /// <summary>Frees the cached tensor.</summary>
    public void Dispose() => _rows.Dispose();
}
