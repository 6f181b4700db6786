using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Reads and writes the safetensors format (8-byte little-endian header length, JSON header, raw little-endian data)
/// with strict validation: every malformed header, out-of-range or overlapping offset, unknown dtype or size mismatch
/// raises an <see cref="InvalidDataException"/> naming the file and the tensor.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>Largest header accepted (100 MB, as the reference implementation).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, ScalarType> DTypes = new(StringComparer.Ordinal)
    {
        ["F64"] = ScalarType.Float64, ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>Reads and validates the header of <paramref name="path"/> without reading tensor data.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The header is malformed.</exception>
    internal static SafetensorsHeader ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path);
    }

    private static SafetensorsHeader ReadHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw Bad(path, $"the file is {fileLength} bytes; a safetensors file starts with an 8-byte header length");
        Span<byte> lenBytes = stackalloc byte[8];
        stream.ReadExactly(lenBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw Bad(path, $"header length {headerLength} exceeds the {fileLength - 8} bytes after the length prefix (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw Bad(path, $"header length {headerLength} exceeds the limit of {MaxHeaderBytes} bytes");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataOffset = 8 + (long)headerLength;
        long dataLength = fileLength - dataOffset;

        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
            throw Bad(path, "the header is not valid UTF-8 text (a safetensors header is UTF-8 JSON)");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw Bad(path, $"the header is not valid JSON ({e.Message})", e);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<SafetensorsEntry>();
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Bad(path, $"the header is not a JSON object but a JSON {root.ValueKind}");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                var name = property.Name;
                if (!seen.Add(name))
                    throw Bad(path, $"the header names tensor '{name}' twice");
                if (name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Bad(path, "__metadata__ must be an object of strings");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String)
                            throw Bad(path, $"__metadata__['{item.Name}'] must be a string, not a JSON {item.Value.ValueKind}");
                        if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                            throw Bad(path, $"__metadata__ names '{item.Name}' twice");
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, name, property.Value, dataLength));
            }
        }

        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        for (int i = 1; i < entries.Count; i++)
        {
            var prev = entries[i - 1];
            var cur = entries[i];
            if (cur.Begin < prev.End && cur.ByteLength > 0 && prev.ByteLength > 0)
                throw Bad(path, $"tensor '{cur.Name}' data [{cur.Begin}, {cur.End}) overlaps tensor '{prev.Name}' data [{prev.Begin}, {prev.End})");
        }
        return new SafetensorsHeader(path, dataOffset, entries, metadata);
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement o, long dataLength)
    {
        if (o.ValueKind != JsonValueKind.Object) throw Bad(path, $"entry '{name}' is not an object but a JSON {o.ValueKind}");
        if (!o.TryGetProperty("dtype", out var dtypeNode)) throw Bad(path, $"tensor '{name}' has no dtype");
        if (dtypeNode.ValueKind != JsonValueKind.String) throw Bad(path, $"tensor '{name}' has a dtype that is not a string but a JSON {dtypeNode.ValueKind}");
        var dtype = dtypeNode.GetString()!;
        if (!DTypes.TryGetValue(dtype, out var scalar))
            throw Bad(path, $"tensor '{name}' has unsupported dtype '{dtype}' (supported: {string.Join(", ", DTypes.Keys)})");
        if (!o.TryGetProperty("shape", out var shapeNode) || shapeNode.ValueKind != JsonValueKind.Array)
            throw Bad(path, $"tensor '{name}' has no shape array");
        var shape = new long[shapeNode.GetArrayLength()];
        for (int i = 0; i < shape.Length; i++)
            shape[i] = Integer(path, name, "shape", shapeNode[i]);
        if (shape.Any(d => d < 0)) throw Bad(path, $"tensor '{name}' has a negative dimension in shape [{string.Join(", ", shape)}]");
        if (!o.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array)
            throw Bad(path, $"tensor '{name}' has no data_offsets array");
        if (offsets.GetArrayLength() != 2) throw Bad(path, $"tensor '{name}' data_offsets must have 2 values, has {offsets.GetArrayLength()}");
        long begin = Integer(path, name, "data_offsets", offsets[0]), end = Integer(path, name, "data_offsets", offsets[1]);
        if (begin < 0 || end < begin || end > dataLength)
            throw Bad(path, $"tensor '{name}' data_offsets [{begin}, {end}] lie outside the {dataLength}-byte data section (truncated file?)");
        long elements = 1;
        try
        {
            foreach (var d in shape) elements = checked(elements * d);
            elements = checked(elements * scalar.ElementSize());
        }
        catch (OverflowException e)
        {
            throw Bad(path, $"tensor '{name}' ({dtype} [{string.Join(", ", shape)}]) has more bytes than a 64-bit size can count", e);
        }
        if (end - begin != elements)
            throw Bad(path, $"tensor '{name}' ({dtype} [{string.Join(", ", shape)}]) needs {elements} bytes but data_offsets span {end - begin}");
        return new SafetensorsEntry(name, dtype, scalar, shape, begin, end);
    }

    private static long Integer(string path, string name, string field, JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var result)
            ? result
            : throw Bad(path, $"tensor '{name}' has a {field} value {value.GetRawText()} that is not a 64-bit integer");

    /// <summary>
    /// Loads tensors (all, or those <paramref name="keep"/> accepts) onto the CPU with the file's dtypes.
    /// The caller owns (disposes) the returned tensors.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path, Func<string, bool>? keep = null) => Load(path, keep, out _);

    /// <summary>As <see cref="Load(string, Func{string, bool}?)"/>, also returning the <c>__metadata__</c>.</summary>
    public static Dictionary<string, Tensor> Load(string path, Func<string, bool>? keep, out IReadOnlyDictionary<string, string> metadata)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Safetensors loading needs a little-endian machine.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Safetensors file not found: {path}", path);
        using var stream = File.OpenRead(path);
        var header = ReadHeader(stream, path);
        metadata = header.Metadata;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in header.Entries)
            {
                if (keep is not null && !keep(e.Name)) continue;
                var t = empty(e.Shape, e.ScalarType);
                if (e.ByteLength > 0)
                {
                    if (e.ByteLength > Array.MaxLength) throw Bad(path, $"tensor '{e.Name}' is larger than 2 GB; split the checkpoint into shards");
                    var buffer = new byte[e.ByteLength];
                    stream.Position = header.DataOffset + e.Begin;
                    stream.ReadExactly(buffer);
                    t.bytes = buffer;
                }
                result.Add(e.Name, t);
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (any device; copied to CPU) and optional metadata, atomically: the data goes
    /// to a temporary file beside <paramref name="path"/> that is then renamed over it.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            var code = DTypes.FirstOrDefault(p => p.Value == t.dtype).Key
                       ?? throw new ArgumentException($"Tensor '{name}' has dtype {t.dtype}, which safetensors cannot store.");
            long bytes = t.numel() * t.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = code,
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // keep the data 8-byte aligned, as the reference writer does
        var headerBytes = new byte[padded];
        Array.Fill(headerBytes, (byte)' ');
        json.CopyTo(headerBytes, 0);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(headerBytes);
            foreach (var name in names)
            {
                using var scope = NewDisposeScope();
                var cpu = tensors[name].detach().cpu().contiguous();
                if (cpu.numel() > 0) stream.Write(cpu.bytes);
            }
        });
    }

    private static InvalidDataException Bad(string path, string what, Exception? inner = null) =>
        new($"{path}: invalid safetensors file: {what}.", inner);
}
