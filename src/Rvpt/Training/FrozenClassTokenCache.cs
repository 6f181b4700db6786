using TorchSharp;
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
/// can too. Not thread-safe; dispose it to free the cached tensor.</para>
/// </remarks>
public sealed class FrozenClassTokenCache : IDisposable
{
    private readonly bool[] _filled;
    private Tensor? _tokens; // [samples, blocks, width]

    /// <summary>Creates an empty cache for samples <c>0..samples-1</c>.</summary>
    /// <param name="samples">Number of samples in the training source.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is negative.</exception>
    public FrozenClassTokenCache(int samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        _filled = new bool[samples];
    }

    /// <summary>Number of samples whose class tokens are cached.</summary>
    public int CachedSamples { get; private set; }

    /// <summary>Images run through the frozen branch by <see cref="GetOrCompute"/> so far (cache misses, per image).</summary>
    public long ImagesEncoded { get; private set; }

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
    public Tensor GetOrCompute(IReadOnlyList<int> indices, Func<Tensor> runFrozen)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(runFrozen);
        bool all = true;
        for (int i = 0; i < indices.Count; i++)
        {
            var index = indices[i];
            if ((uint)index >= (uint)_filled.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"Sample index outside the cache of {_filled.Length} samples.");
            all &= _filled[index];
        }

        if (all && _tokens is not null && indices.Count > 0)
        {
            using var rows = Rows(indices, _tokens.device);
            return _tokens.index_select(0, rows);
        }

        var fresh = runFrozen();
        if (fresh.dim() != 3 || fresh.shape[0] != indices.Count)
            throw new ArgumentException($"The frozen branch gave [{string.Join(", ", fresh.shape)}] for {indices.Count} samples; expected [{indices.Count}, blocks, width].", nameof(runFrozen));
        ImagesEncoded += indices.Count;
        Store(indices, fresh);
        return fresh;
    }

    private void Store(IReadOnlyList<int> indices, Tensor fresh)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (_tokens is null)
        {
            _tokens = zeros(new[] { (long)_filled.Length, fresh.shape[1], fresh.shape[2] }, fresh.dtype, fresh.device).DetachFromDisposeScope();
        }
        else if (_tokens.shape[1] != fresh.shape[1] || _tokens.shape[2] != fresh.shape[2] || _tokens.dtype != fresh.dtype || _tokens.device_type != fresh.device_type)
        {
            throw new ArgumentException(
                $"The frozen branch gave {fresh.dtype} [{string.Join(", ", fresh.shape)}] on {fresh.device}, the cache holds {_tokens.dtype} rows of [{_tokens.shape[1]}, {_tokens.shape[2]}] on {_tokens.device}.");
        }
        if (indices.Count == 0) return;
        _tokens.index_copy_(0, Rows(indices, _tokens.device), fresh.detach());
        foreach (var index in indices)
        {
            if (_filled[index]) continue;
            _filled[index] = true;
            CachedSamples++;
        }
    }

    private static Tensor Rows(IReadOnlyList<int> indices, Device device)
    {
        Span<long> values = indices.Count <= 512 ? stackalloc long[indices.Count] : new long[indices.Count];
        for (int i = 0; i < values.Length; i++) values[i] = indices[i];
        var rows = empty(indices.Count, ScalarType.Int64);
        using (var access = rows.data<long>()) access.CopyFrom(values, 0, 0);
        if (device.type == DeviceType.CPU) return rows;
        using (rows) return rows.to(device);
    }

    /// <summary>Frees the cached tensor.</summary>
    public void Dispose()
    {
        _tokens?.Dispose();
        _tokens = null;
        Array.Clear(_filled);
        CachedSamples = 0;
    }
}
