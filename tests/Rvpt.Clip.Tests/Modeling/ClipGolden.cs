using System.Text.Json;
using Rvpt.Clip;
using Rvpt.Testing;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>The reference inputs and outputs of <c>tiny_clip_golden.safetensors</c> (see the fixture's MANIFEST.md).</summary>
internal sealed class ClipGolden : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    public ClipGolden()
    {
        _tensors = SafetensorsFile.Load(Fixtures.ClipTinyFile("tiny_clip_golden.safetensors"), null, out var metadata);
        Texts = JsonSerializer.Deserialize<string[]>(metadata["texts"])!;
    }

    public IReadOnlyList<string> Texts { get; }

    public Tensor this[string name] => _tensors[name];

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }
}
