using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// Identifies a model's weights independently of the dtype that stores them, and names what differs between two
/// models. Every weight is hashed three times: its values rounded to float32, to float16 and to bfloat16
/// (<see cref="ClipTensorSignature"/>). Two weights are the same when the hashes agree at any one of these precisions.
/// </summary>
/// <remarks>
/// <para>Why three: a model converted to another dtype holds its values rounded to that dtype, and rounding the
/// original and the copy to the copy's precision gives identical numbers. So weights trained in float32 match their
/// float16 copy (at float16) and their bfloat16 copy (at bfloat16), and any copy of a float16 checkpoint (OpenAI's)
/// matches any other. One case does not match: a float16 copy and a bfloat16 copy both made from float32 values,
/// because rounding twice (float32 -> float16 -> bfloat16) can differ from rounding once in the last bit; deploy from
/// the same file in float32 or in the training dtype then.</para>
/// <para>A different model (other weights, even a fine-tune that moved them slightly) changes the rounded values and
/// is told apart at every precision, except a change smaller than the coarsest dtype involved can show, which no
/// model held in that dtype could reveal.</para>
/// </remarks>
public sealed class ClipWeightsSignature
{
    /// <summary>Name of this scheme, stored with it.</summary>
    public const string Scheme = "rvpt-weights-v2";

    private ClipWeightsSignature(IReadOnlyDictionary<string, ClipTensorSignature> tensors)
    {
        Tensors = tensors;
        Digest = ComputeDigest(tensors);
    }

    /// <summary>The weights by state-dict key, in ordinal order.</summary>
    public IReadOnlyDictionary<string, ClipTensorSignature> Tensors { get; }

    /// <summary>
    /// Lower-case hex SHA-256 over every key, shape and float32 hash: equal for equal values in any storage dtype
    /// (<see cref="ClipWeightsFingerprint.Compute"/>).
    /// </summary>
    public string Digest { get; }

    /// <summary>Computes the signature of <paramref name="model"/>'s weights (on any device, in any dtype).</summary>
    public static ClipWeightsSignature Compute(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = new SortedDictionary<string, ClipTensorSignature>(StringComparer.Ordinal);
        foreach (var (name, tensor) in model.state_dict())
        {
            using var scope = NewDisposeScope();
            var cpu = tensor.detach().cpu();
            tensors[name] = new ClipTensorSignature(tensor.shape, Hash(cpu, ScalarType.Float32), Hash(cpu, ScalarType.Float16), Hash(cpu, ScalarType.BFloat16));
        }
        return new ClipWeightsSignature(tensors);
    }

    /// <summary>
    /// What differs from <paramref name="actual"/>, one line per kind of difference (missing or extra weights, other
    /// shapes, other values), naming the weights; empty when <paramref name="actual"/> holds the same weights.
    /// </summary>
    public IReadOnlyList<string> Differences(ClipWeightsSignature actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        var lines = new List<string>();
        var missing = Tensors.Keys.Where(k => !actual.Tensors.ContainsKey(k)).ToList();
        var extra = actual.Tensors.Keys.Where(k => !Tensors.ContainsKey(k)).ToList();
        var shapes = Tensors.Where(p => actual.Tensors.TryGetValue(p.Key, out var a) && !a.Shape.SequenceEqual(p.Value.Shape))
            .Select(p => $"{p.Key} [{string.Join(", ", p.Value.Shape)}] -> [{string.Join(", ", actual.Tensors[p.Key].Shape)}]").ToList();
        var values = Tensors.Where(p => actual.Tensors.TryGetValue(p.Key, out var a) && a.Shape.SequenceEqual(p.Value.Shape) && !a.SameValues(p.Value))
            .Select(p => p.Key).ToList();
        if (missing.Count > 0) lines.Add($"{missing.Count} weight(s) missing: {List(missing)}");
        if (extra.Count > 0) lines.Add($"{extra.Count} weight(s) not in the original: {List(extra)}");
        if (shapes.Count > 0) lines.Add($"{shapes.Count} weight(s) with another shape: {List(shapes)}");
        if (values.Count > 0)
            lines.Add($"{values.Count} of {Tensors.Count} weights hold other values (compared at float32, float16 and bfloat16 precision): {List(values)}");
        return lines;
    }

    /// <summary>
    /// Writes the signature as compact JSON: <c>{"scheme", "digest", "tensors": {key: [shape, float32, float16,
    /// bfloat16]}}</c>, about 120 bytes per weight (35 KB for ViT-B/32).
    /// </summary>
    public string ToJson() => ToJsonObject().ToJsonString();

    /// <summary>The JSON of <see cref="ToJson"/> as a node, for embedding in other JSON.</summary>
    public JsonObject ToJsonObject()
    {
        var tensors = new JsonObject();
        foreach (var (name, t) in Tensors)
            tensors[name] = new JsonArray(new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()), t.Float32, t.Float16, t.BFloat16);
        return new JsonObject { ["scheme"] = Scheme, ["digest"] = Digest, ["tensors"] = tensors };
    }

    /// <summary>Reads a signature written by <see cref="ToJson"/>; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">The JSON is not such a signature.</exception>
    public static ClipWeightsSignature FromJson(JsonNode? json, string source)
    {
        try
        {
            var o = json as JsonObject ?? throw new InvalidDataException($"{source}: the weights signature is not a JSON object.");
            if ((string?)o["scheme"] != Scheme)
                throw new InvalidDataException($"{source}: weights signature scheme '{(string?)o["scheme"]}', expected '{Scheme}'.");
            var tensors = new SortedDictionary<string, ClipTensorSignature>(StringComparer.Ordinal);
            foreach (var (name, node) in o["tensors"] as JsonObject ?? throw new InvalidDataException($"{source}: the weights signature has no 'tensors' object."))
            {
                if (node is not JsonArray { Count: 4 } t || t[0] is not JsonArray shape)
                    throw new InvalidDataException($"{source}: weights signature entry '{name}' is not [shape, float32, float16, bfloat16].");
                tensors[name] = new ClipTensorSignature(shape.Select(d => (long)d!).ToArray(),
                    Text(t[1], "float32", name, source), Text(t[2], "float16", name, source), Text(t[3], "bfloat16", name, source));
            }
            return new ClipWeightsSignature(tensors);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or NullReferenceException)
        {
            throw new InvalidDataException($"{source}: malformed weights signature ({e.Message}).", e);
        }
    }

    /// <summary>As <see cref="FromJson(JsonNode?, string)"/>, from JSON text.</summary>
    public static ClipWeightsSignature FromJson(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return FromJson(JsonNode.Parse(json), source);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: malformed weights signature ({e.Message}).", e);
        }
    }

    private static string Text(JsonNode? hash, string precision, string name, string source) =>
        (string?)hash ?? throw new InvalidDataException($"{source}: weights signature entry '{name}' has no {precision} hash.");

    private static string Hash(Tensor cpu, ScalarType precision)
    {
        var rounded = cpu.to_type(precision).contiguous();
        var bytes = rounded.numel() > 0 ? rounded.bytes : ReadOnlySpan<byte>.Empty;
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
    }

    private static string ComputeDigest(IReadOnlyDictionary<string, ClipTensorSignature> tensors)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, t) in tensors.OrderBy(p => p.Key, StringComparer.Ordinal))
            sha.AppendData(Encoding.UTF8.GetBytes($"{name}|{string.Join(",", t.Shape)}|{t.Float32}\n"));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string List(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(8)) + (items.Count > 8 ? $", ... ({items.Count - 8} more)" : "");
}
