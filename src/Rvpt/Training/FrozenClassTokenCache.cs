using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Keeps the frozen branch's class tokens (<see cref="DeepPromptInjector.RunFrozen"/>, the σ of the repelling loss)
/// per sample, so that later epochs skip the frozen branch. Valid only while a sample's input image is the same every
/// time, i.e. with augmentation off: the frozen encoder never changes, so its output for a fixed image does not either.
/// </summary>
/// <remarks>
/// <para>
/// Keyed by the sample index in the training source (<see cref="ImageBatch.Indices"/>). A batch whose samples are all
/// cached is a gather from the cache; otherwise the frozen branch runs on the whole batch and its rows are stored.
/// Memory: <c>samples x (L - D) x width</c> values in the frozen branch's dtype on its device, allocated at the first
/// store (ViT-B/32, D = 3: 27 KB per image in float32, 14 KB in bfloat16; 16 shots x 1000 classes: 442 MB / 221 MB).
/// </para>
/// <para><see cref="FewShotTrainer"/> uses one with <see cref="TrainingOptions.CacheFrozenClassTokens"/>; a custom loop
/// can too, beside a <see cref="SharedTrunkCache"/>. Not thread-safe; dispose it to free the cached tensor.</para>
/// </remarks>
internal sealed class FrozenClassTokenCache : IDisposable
{
    private readonly SampleRowCache _rows;

    /// <summary>Creates an empty cache for samples <c>0..samples-1</c>.</summary>
    /// <param name="samples">Number of samples in the training source.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is negative.</exception>
    public FrozenClassTokenCache(int samples) => _rows = new SampleRowCache(samples, "the frozen branch");

    /// <summary>Number of samples whose class tokens are cached.</summary>
    public int CachedSamples => _rows.CachedSamples;

    /// <summary>Images run through the frozen branch by <see cref="GetOrCompute"/> so far (cache misses, per image).</summary>
    public long ImagesEncoded => _rows.ImagesEncoded;

    /// <summary>
    /// The frozen class tokens <c>[batch, L - D, width]</c> of the samples <paramref name="indices"/>: gathered from the
    /// cache when every one is there, else <paramref name="runFrozen"/>'s result for the whole batch, which is stored.
    /// The result belongs to the caller's dispose scope.
    /// </summary>
    /// <param name="indices">Sample index of each row of the batch.</param>
    /// <param name="runFrozen">Runs the frozen branch on the batch (typically <c>() => prompts.RunFrozen(trunk)</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the cache.</exception>
    /// <exception cref="ArgumentException">The frozen branch returned a tensor whose rows do not match the indices, or
    /// whose shape, dtype or device differs from the cached rows.</exception>
    public Tensor GetOrCompute(IReadOnlyList<int> indices, Func<Tensor> runFrozen) =>
        _rows.GetOrCompute(indices, runFrozen, nameof(runFrozen));

    /// <summary>Frees the cached tensor.</summary>
    public void Dispose() => _rows.Dispose();
}
