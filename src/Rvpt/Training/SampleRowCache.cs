using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// Per-sample rows <c>[rows, width]</c> of one tensor <c>[samples, rows, width]</c>, filled batch by batch: the store
/// behind <see cref="FrozenClassTokenCache"/> and <see cref="SharedTrunkCache"/>. A batch whose samples are all cached
/// is a gather; otherwise <c>compute</c> runs on the whole batch and its rows are stored. The tensor is allocated at
/// the first store, in the dtype and on the device of the computed rows. Not thread-safe.
/// </summary>
internal sealed class SampleRowCache : IDisposable
{
    private readonly bool[] _filled;
    private readonly string _what; // for messages: "the frozen branch", "the shared trunk"
    private Tensor? _rows;         // [samples, rows, width]

    public SampleRowCache(int samples, string what)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        _filled = new bool[samples];
        _what = what;
    }

    public int CachedSamples { get; private set; }

    public long ImagesEncoded { get; private set; }

    /// <summary>Bytes held (0 before the first store).</summary>
    public long Bytes => _rows is null ? 0 : _rows.numel() * _rows.ElementSize;

    public Tensor GetOrCompute(IReadOnlyList<int> indices, Func<Tensor> compute, string computeName)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(compute);
        bool all = true;
        for (int i = 0; i < indices.Count; i++)
        {
            var index = indices[i];
            if ((uint)index >= (uint)_filled.Length)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"Sample index outside the cache of {_filled.Length} samples.");
            all &= _filled[index];
        }

        if (all && _rows is not null && indices.Count > 0)
        {
            using var rows = Rows(indices, _rows.device);
            return _rows.index_select(0, rows);
        }

        var fresh = compute();
        if (fresh.dim() != 3 || fresh.shape[0] != indices.Count)
            throw new ArgumentException($"{Capitalised(_what)} gave [{string.Join(", ", fresh.shape)}] for {indices.Count} samples; expected [{indices.Count}, rows, width].", computeName);
        ImagesEncoded += indices.Count;
        Store(indices, fresh, computeName);
        return fresh;
    }

    private void Store(IReadOnlyList<int> indices, Tensor fresh, string computeName)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (_rows is null)
        {
            _rows = zeros(new[] { (long)_filled.Length, fresh.shape[1], fresh.shape[2] }, fresh.dtype, fresh.device).DetachFromDisposeScope();
        }
        else if (_rows.shape[1] != fresh.shape[1] || _rows.shape[2] != fresh.shape[2] || _rows.dtype != fresh.dtype || _rows.device_type != fresh.device_type)
        {
            throw new ArgumentException(
                $"{Capitalised(_what)} gave {fresh.dtype} [{string.Join(", ", fresh.shape)}] on {fresh.device}, the cache holds {_rows.dtype} rows of [{_rows.shape[1]}, {_rows.shape[2]}] on {_rows.device}.",
                computeName);
        }
        if (indices.Count == 0) return;
        _rows.index_copy_(0, Rows(indices, _rows.device), fresh.detach());
        foreach (var index in indices)
        {
            if (_filled[index]) continue;
            _filled[index] = true;
            CachedSamples++;
        }
    }

    private static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static Tensor Rows(IReadOnlyList<int> indices, Device device)
    {
        Span<long> values = indices.Count <= 512 ? stackalloc long[indices.Count] : new long[indices.Count];
        for (int i = 0; i < values.Length; i++) values[i] = indices[i];
        var rows = empty(indices.Count, ScalarType.Int64);
        using (var access = rows.data<long>()) access.CopyFrom(values, 0, 0);
        if (device.type == DeviceType.CPU) return rows;
        using (rows) return rows.to(device);
    }

    public void Dispose()
    {
        _rows?.Dispose();
        _rows = null;
        Array.Clear(_filled);
        CachedSamples = 0;
    }
}
