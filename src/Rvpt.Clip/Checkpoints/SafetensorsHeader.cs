namespace Rvpt.Clip;

/// <summary>The parsed and validated header of a safetensors file.</summary>
internal sealed class SafetensorsHeader
{
    internal SafetensorsHeader(string path, long dataOffset, IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        DataOffset = dataOffset;
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The file the header was read from.</summary>
    public string Path { get; }

    /// <summary>Absolute offset of the data section (8 + header length).</summary>
    public long DataOffset { get; }

    /// <summary>Tensor entries in file order of their data.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
}
