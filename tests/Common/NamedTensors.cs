using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Testing;

/// <summary>All tensors of a safetensors file, by name; disposes them.</summary>
public sealed class NamedTensors : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    public NamedTensors(string path)
    {
        _tensors = SafetensorsFile.Load(path, null, out var metadata);
        Metadata = metadata;
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public Tensor this[string name] => _tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"No tensor '{name}'.");

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }
}
