using System.Text;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// A seeded mutation fuzzer for <see cref="SafetensorsFile"/>: a few hundred damaged variants of a small valid file
/// (bytes flipped, cut, appended; the length prefix rewritten; header numbers, dtypes, names and punctuation
/// replaced).
/// Every variant must either load or be refused with an <see cref="InvalidDataException"/> naming the file, and what
/// loads must fit in the file (no tensor larger than the bytes that back it).
/// </summary>
public sealed class SafetensorsFuzzTests
{
    private const int Cases = 400;

    private static readonly string[] Numbers =
        ["-1", "0", "1", "3", "7", "4294967296", "1099511627776", "9007199254740993", "9223372036854775807", "18446744073709551616", "1e300", "2.5", "-0"];

    private static readonly string[] DTypes = ["F64", "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "U64", "", "f32"];

    private static readonly string[] Punctuation = ["{", "}", "[", "]", ",", ":", "\"", "null", "true", " ", "\\u0000", "\\"];

    [Fact]
    public void MutatedFilesLoadOrFailWithInvalidDataOnly()
    {
        using var temp = new TempDirectory();
        var valid = ValidFile(temp);
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < Cases; i++)
        {
            var random = new Random(1000 + i);
            var (kind, bytes) = Mutate(valid, random);
            var path = temp.Write($"case-{i}.safetensors", bytes);
            var what = $"case {i} ({kind})";
            var outcome = FuzzAssert.LoadsOrRefuses(what, path, () =>
            {
                using var loaded = SafetensorsFile.Load(path).AsDisposable();
                long total = loaded.Tensors.Values.Sum(t => t.numel() * t.ElementSize);
                Assert.True(total <= bytes.Length, $"{what}: {total} bytes of tensors from a {bytes.Length}-byte file");
            }) ? "loaded" : "refused";
            File.Delete(path);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        // The mutations must exercise both paths, or the fuzzer tests nothing.
        Assert.True(outcomes.GetValueOrDefault("refused") > Cases / 4, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault("loaded") > 0, string.Join(", ", outcomes));
    }

    private static byte[] ValidFile(TempDirectory temp)
    {
        var g = new Generator(5, CPU);
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.weight"] = randn(new long[] { 2, 3 }, generator: g),
            ["a.bias"] = randn(new long[] { 3 }, generator: g).to(ScalarType.BFloat16),
            ["ids"] = arange(4, dtype: ScalarType.Int64),
            ["mask"] = tensor(new[] { true, false }),
            ["empty"] = zeros(new long[] { 0, 5 }, dtype: ScalarType.Byte),
            ["half"] = ones(new long[] { 2, 2 }, dtype: ScalarType.Float16),
        };
        var path = temp.File("valid.safetensors");
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "fuzz seed" });
        return File.ReadAllBytes(path);
    }

    private static (string Kind, byte[] Bytes) Mutate(byte[] valid, Random random)
    {
        var headerLength = (int)BitConverter.ToUInt64(valid, 0);
        var header = Encoding.UTF8.GetString(valid, 8, headerLength).TrimEnd();
        var data = valid[(8 + headerLength)..];
        switch (random.Next(8))
        {
            case 0:
            {
                var bytes = (byte[])valid.Clone();
                for (int n = random.Next(1, 9); n > 0; n--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return ("flip bits", bytes);
            }
            case 1:
                return ("truncate", valid[..random.Next(valid.Length)]);
            case 2:
            {
                var bytes = (byte[])valid.Clone();
                ulong[] lengths = [0, 1, (ulong)headerLength - 1, (ulong)headerLength + 1, (ulong)valid.Length, ulong.MaxValue, 1UL << 40, (ulong)random.Next()];
                BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), lengths[random.Next(lengths.Length)]);
                return ("length prefix", bytes);
            }
            case 3:
                return ("header number", Assemble(ReplaceToken(header, random, @"-?\d+", Numbers), data, random));
            case 4:
                return ("dtype", Assemble(ReplaceToken(header, random, "(?<=\"dtype\":\")[^\"]*", DTypes), data, random));
            case 5:
            {
                var position = random.Next(header.Length);
                var edited = random.Next(2) == 0
                    ? header.Remove(position, 1)
                    : header.Insert(position, Punctuation[random.Next(Punctuation.Length)]);
                return ("header punctuation", Assemble(edited, data, random));
            }
            case 6:
            {
                // Another entry's name (a duplicate key), the metadata key, or an empty name.
                string[] names = ["\"a.weight\"", "\"ids\"", "\"__metadata__\"", "\"\""];
                return ("tensor name", Assemble(ReplaceToken(header, random, "\"[a-z.]+\"(?=:\\{\"dtype)", names), data, random));
            }
            default:
            {
                var extra = new byte[random.Next(1, 64)];
                random.NextBytes(extra);
                return ("appended bytes", [.. valid, .. extra]);
            }
        }
    }

    private static string ReplaceToken(string header, Random random, string pattern, string[] replacements)
    {
        var matches = System.Text.RegularExpressions.Regex.Matches(header, pattern);
        if (matches.Count == 0) return header;
        var match = matches[random.Next(matches.Count)];
        return string.Concat(header.AsSpan(0, match.Index), replacements[random.Next(replacements.Length)], header.AsSpan(match.Index + match.Length));
    }

    /// <summary>Length prefix + header + data; usually with the correct prefix, sometimes with the original one.</summary>
    private static byte[] Assemble(string header, byte[] data, Random random)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var prefix = random.Next(4) == 0 ? (ulong)(json.Length + random.Next(-3, 4)) : (ulong)json.Length;
        return [.. BitConverter.GetBytes(prefix), .. json, .. data];
    }

    /// <summary>A failing case can be replayed: the same seed gives the same bytes.</summary>
    [Fact]
    public void TheFuzzerIsDeterministic()
    {
        using var temp = new TempDirectory();
        var valid = ValidFile(temp);
        for (var i = 0; i < 20; i++)
            Assert.Equal(Mutate(valid, new Random(i)).Bytes, Mutate(valid, new Random(i)).Bytes);
    }
}
