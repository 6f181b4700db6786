using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>
/// The golden tensors written by <c>Golden/make_golden.py</c> (the authors' code restated in Python, random draws saved
/// with the results); copied next to the test assembly.
/// </summary>
internal sealed class GoldenFile : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private GoldenFile(string path)
    {
        Path = path;
        _tensors = SafetensorsFile.Load(path);
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>Opens <c>Golden/<paramref name="name"/></c>.</summary>
    public static GoldenFile Open(string name) => new(PathOf(name));

    /// <summary>Full path of <c>Golden/<paramref name="name"/></c> next to the test assembly.</summary>
    public static string PathOf(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Golden", name);

    /// <summary>The tensor named <paramref name="key"/> (owned by this file).</summary>
    public Tensor this[string key] => _tensors.TryGetValue(key, out var t) ? t
        : throw new KeyNotFoundException($"{Path} has no tensor '{key}' (has: {string.Join(", ", _tensors.Keys)}).");

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }
}
