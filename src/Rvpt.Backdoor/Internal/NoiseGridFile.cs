using System.IO.Compression;
using System.Text;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// Reads one tensor saved by Python: a safetensors file with a single tensor, or a zip-format <c>torch.save</c> file
/// of a single tensor (as CleanCLIP saves WaNet's noise grid). The pickle reader understands only the opcodes and
/// globals <c>torch.save(tensor)</c> writes (<c>torch._utils._rebuild_tensor_v2</c>, a float32 or float64 storage,
/// <c>collections.OrderedDict</c>); anything else is refused, so a file cannot run code.
/// </summary>
internal static class NoiseGridFile
{
    private static (ScalarType Type, int Size)? StorageType(string name) => name switch
    {
        "FloatStorage" => (ScalarType.Float32, 4),
        "DoubleStorage" => (ScalarType.Float64, 8),
        _ => null,
    };

    /// <summary>The tensor in <paramref name="path"/>, float32 on the CPU, contiguous.</summary>
    internal static Tensor Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Noise grid file '{path}' does not exist.", path);
        var head = new byte[2];
        using (var fs = File.OpenRead(path))
            if (fs.Read(head, 0, 2) < 2) throw new InvalidDataException($"'{path}' is too short to hold a tensor.");
        try
        {
            return head[0] == (byte)'P' && head[1] == (byte)'K' ? LoadTorchSave(path) : LoadSafetensors(path);
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{path}': cannot read a tensor: {e.Message}", e);
        }
    }

    private static Tensor LoadSafetensors(string path)
    {
        var tensors = SafetensorsFile.Load(path);
        try
        {
            if (tensors.Count != 1)
                throw new InvalidDataException($"'{path}' holds {tensors.Count} tensors ({string.Join(", ", tensors.Keys)}); a noise grid file holds one.");
            return tensors.Values.Single().to(ScalarType.Float32, CPU).contiguous().clone();
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static Tensor LoadTorchSave(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var pickle = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) || e.FullName == "data.pkl")
            ?? throw new InvalidDataException($"'{path}' is a zip file without data.pkl; it is not a torch.save file.");
        var prefix = pickle.FullName[..^"data.pkl".Length];
        byte[] program;
        using (var s = pickle.Open())
        using (var m = new MemoryStream())
        {
            s.CopyTo(m);
            program = m.ToArray();
        }
        var rebuilt = Run(program, path);
        var storage = zip.GetEntry(prefix + "data/" + rebuilt.Key)
            ?? throw new InvalidDataException($"'{path}': the tensor's storage 'data/{rebuilt.Key}' is missing.");
        byte[] bytes;
        using (var s = storage.Open())
        using (var m = new MemoryStream())
        {
            s.CopyTo(m);
            bytes = m.ToArray();
        }
        var (type, size) = rebuilt.Storage;
        long needed = rebuilt.Offset + 1;
        for (int i = 0; i < rebuilt.Shape.Length; i++) needed += (rebuilt.Shape[i] - 1) * rebuilt.Stride[i];
        if (rebuilt.Shape.Any(d => d == 0)) needed = 0;
        if (bytes.Length % size != 0 || bytes.Length / size < needed)
            throw new InvalidDataException($"'{path}': storage 'data/{rebuilt.Key}' has {bytes.Length} bytes, too few for shape [{string.Join(", ", rebuilt.Shape)}] with strides [{string.Join(", ", rebuilt.Stride)}].");
        using var scope = NewDisposeScope();
        // The storage bytes are little-endian, as this machine's (libtorch on big-endian hosts is not supported).
        var flat = type == ScalarType.Float64
            ? tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes).ToArray())
            : tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray());
        var view = flat.as_strided(rebuilt.Shape, rebuilt.Stride, rebuilt.Offset);
        return view.to(ScalarType.Float32).contiguous().clone().DetachFromDisposeScope();
    }

    private sealed record Global(string Module, string Name);

    private sealed record StorageRef(string Key, (ScalarType Type, int Size) Storage);

    private sealed record Rebuilt(string Key, (ScalarType Type, int Size) Storage, long Offset, long[] Shape, long[] Stride);

    private sealed class Mark
    {
        internal static readonly Mark Instance = new();
    }

    // A pickle VM restricted to what torch.save(tensor) writes with protocol 2 (PyTorch's default).
    private static Rebuilt Run(byte[] p, string path)
    {
        var stack = new List<object?>();
        var memo = new Dictionary<int, object?>();
        int i = 0;
        InvalidDataException Bad(string what) => new($"'{path}': data.pkl {what} at byte {i}; only a single tensor saved with torch.save is read.");
        object? Pop() { var v = stack[^1]; stack.RemoveAt(stack.Count - 1); return v; }
        List<object?> PopMark()
        {
            int m = stack.FindLastIndex(o => ReferenceEquals(o, Mark.Instance));
            if (m < 0) throw Bad("has no MARK");
            var items = stack.GetRange(m + 1, stack.Count - m - 1);
            stack.RemoveRange(m, stack.Count - m);
            return items;
        }
        string Line() { int end = Array.IndexOf(p, (byte)'\n', i); if (end < 0) throw Bad("has an unterminated line"); var s = Encoding.ASCII.GetString(p, i, end - i); i = end + 1; return s; }
        int U8() => p[i++];
        int I32() { var v = BitConverter.ToInt32(p, i); i += 4; return v; }
        while (i < p.Length)
        {
            byte op = p[i++];
            switch (op)
            {
                case 0x80: i++; break;                                         // PROTO
                case 0x95: i += 8; break;                                      // FRAME
                case (byte)'c': stack.Add(new Global(Line(), Line())); break;  // GLOBAL
                case (byte)'q': memo[U8()] = stack[^1]; break;                 // BINPUT
                case (byte)'r': memo[I32()] = stack[^1]; break;                // LONG_BINPUT
                case 0x94: memo[memo.Count] = stack[^1]; break;                // MEMOIZE
                case (byte)'h': stack.Add(memo[U8()]); break;                  // BINGET
                case (byte)'j': stack.Add(memo[I32()]); break;                 // LONG_BINGET
                case (byte)'(': stack.Add(Mark.Instance); break;               // MARK
                case (byte)'t': stack.Add(PopMark().ToArray()); break;         // TUPLE
                case (byte)')': stack.Add(Array.Empty<object?>()); break;      // EMPTY_TUPLE
                case 0x85: stack.Add(new[] { Pop() }); break;                  // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; }            // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; } // TUPLE3
                case (byte)'X': { int n = I32(); stack.Add(Encoding.UTF8.GetString(p, i, n)); i += n; break; } // BINUNICODE
                case 0x8c: { int n = U8(); stack.Add(Encoding.UTF8.GetString(p, i, n)); i += n; break; }       // SHORT_BINUNICODE
                case (byte)'K': stack.Add((long)U8()); break;                  // BININT1
                case (byte)'M': stack.Add((long)BitConverter.ToUInt16(p, i)); i += 2; break; // BININT2
                case (byte)'J': stack.Add((long)I32()); break;                 // BININT
                case 0x8a:                                                     // LONG1
                {
                    int n = U8();
                    long v = 0;
                    for (int b = n - 1; b >= 0; b--) v = (v << 8) | p[i + b];
                    if (n > 0 && n < 8 && (p[i + n - 1] & 0x80) != 0) v -= 1L << (8 * n);
                    i += n;
                    stack.Add(v);
                    break;
                }
                case 0x88: stack.Add(true); break;                             // NEWTRUE
                case 0x89: stack.Add(false); break;                            // NEWFALSE
                case (byte)'N': stack.Add(null); break;                        // NONE
                case (byte)'}': stack.Add(new Dictionary<object, object?>()); break; // EMPTY_DICT
                case (byte)'Q':                                                // BINPERSID
                {
                    if (Pop() is not object?[] { Length: 5 } pid || pid[0] as string != "storage" || pid[1] is not Global g
                        || g.Module != "torch" || StorageType(g.Name) is not { } st || pid[2] is not string key)
                        throw Bad("has a persistent id that is not a tensor storage");
                    stack.Add(new StorageRef(key, st));
                    break;
                }
                case (byte)'R':                                                // REDUCE
                {
                    var args = Pop() as object?[] ?? throw Bad("has REDUCE without an argument tuple");
                    var f = Pop() as Global ?? throw Bad("has REDUCE on a non-global");
                    if (f is { Module: "collections", Name: "OrderedDict" }) stack.Add(new Dictionary<object, object?>());
                    else if (f is { Module: "torch._utils", Name: "_rebuild_tensor_v2" } && args.Length >= 4
                        && args[0] is StorageRef s && args[1] is long offset && args[2] is object?[] size && args[3] is object?[] stride
                        && size.Length == stride.Length && size.All(v => v is long) && stride.All(v => v is long))
                        stack.Add(new Rebuilt(s.Key, s.Storage, offset, size.Cast<long>().ToArray(), stride.Cast<long>().ToArray()));
                    else throw Bad($"calls {f.Module}.{f.Name}, which is not read");
                    break;
                }
                case (byte)'.':                                                // STOP
                    return stack.Count == 1 && stack[0] is Rebuilt r ? r : throw Bad("does not hold a single tensor");
                default:
                    i--;
                    throw Bad($"has opcode 0x{op:x2}, which is not read");
            }
        }
        throw Bad("ends without STOP");
    }
}
