using System.Diagnostics;
using System.Text;
using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>
/// Malformed safetensors files that <see cref="ClipCheckpointTests.CorruptHeadersFailClearly"/> does not cover:
/// each is refused with an <see cref="InvalidDataException"/> that names the file, the tensor or key, and what was
/// expected — and nothing is allocated for data the file does not hold.
/// </summary>
public sealed class SafetensorsBadInputTests : IDisposable
{
    private readonly TempDirectory temp = new();

    /// <summary>Deletes the files.</summary>
    public void Dispose() => temp.Dispose();

    /// <summary>Writes a file with the given header text, the real 8-byte length prefix and <paramref name="dataBytes"/> zero bytes.</summary>
    private string WriteRaw(string name, string header, int dataBytes = 16)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return temp.Write(name, bytes);
    }

    private static InvalidDataException Refused(string path)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Load(path));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void AHeaderClaimingATerabyteTensorIsRefusedBeforeAllocating()
    {
        // 2^18 x 2^20 float32 = 1 TiB, with offsets that say so, in a 150-byte file.
        var path = WriteRaw("terabyte.safetensors",
            "{\"huge\":{\"dtype\":\"F32\",\"shape\":[262144,1048576],\"data_offsets\":[0,1099511627776]}}");
        var clock = Stopwatch.StartNew();
        var e = Refused(path);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains("'huge'", e.Message);
        Assert.Contains("1099511627776", e.Message);
        Assert.Contains("16-byte data section", e.Message);
    }

    [Fact]
    public void AShapeWhoseSizeOverflowsIsRefused()
    {
        var path = WriteRaw("overflow.safetensors",
            "{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}");
        var e = Refused(path);
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void OffsetsPastTheDataSectionAreRefusedEvenWhenTheSizeMatches()
    {
        var path = WriteRaw("range.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}");
        var e = Refused(path);
        Assert.Contains("'w'", e.Message);
        Assert.Contains("[8, 24]", e.Message);
        Assert.Contains("16-byte data section", e.Message);
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "'w'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", "'w'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "2 values")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", "'w'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",\"4\"]}}", "'w'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "negative dimension")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "'w'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]}}", "'w'")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", "no shape array")]
    [InlineData("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "'w'")]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "no dtype")]
    [InlineData("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unsupported dtype 'f32'")]
    [InlineData("{\"w\":[1,2]}", "entry 'w' is not an object")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("\"text\"", "not a JSON object")]
    [InlineData("", "not valid JSON")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", "__metadata__['k'] must be a string")]
    [InlineData("{\"__metadata__\":[\"k\"]}", "__metadata__ must be an object")]
    public void MalformedEntriesNameTheTensorOrKey(string header, string expected)
    {
        var e = Refused(WriteRaw("entry.safetensors", header));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ATensorNamedTwiceIsRefused()
    {
        var path = WriteRaw("duplicate.safetensors",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}");
        var e = Refused(path);
        Assert.Contains("'w'", e.Message);
        Assert.Contains("twice", e.Message);
    }

    [Fact]
    public void NonUtf8HeaderIsRefused()
    {
        var bytes = new byte[8 + 4 + 8];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), 4UL);
        bytes[8] = (byte)'{';
        bytes[9] = 0xFF;
        bytes[10] = 0xFE;
        bytes[11] = (byte)'}';
        var e = Refused(temp.Write("latin.safetensors", bytes));
        Assert.Contains("not valid UTF-8", e.Message);
    }

    [Fact]
    public void AHugeHeaderLengthPrefixIsRefusedWithoutReadingIt()
    {
        var bytes = new byte[64];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), ulong.MaxValue);
        var e = Refused(temp.Write("prefix.safetensors", bytes));
        Assert.Contains(ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Contains("56 bytes after the length prefix", e.Message);
    }

    [Fact]
    public void TheSameDataClaimedByTwoTensorsIsRefused()
    {
        var path = WriteRaw("alias.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
        var e = Refused(path);
        Assert.Contains("overlaps", e.Message);
        Assert.Contains("'a'", e.Message);
        Assert.Contains("'b'", e.Message);
    }

    [Fact]
    public void ZeroSizedTensorsMayShareAnOffsetAndLoadEmpty()
    {
        var path = WriteRaw("empty.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[0,1000000000000],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
        using var loaded = SafetensorsFile.Load(path).AsDisposable();
        Assert.Equal(new long[] { 0, 1_000_000_000_000 }, loaded.Tensors["a"].shape);
        Assert.Equal(4, loaded.Tensors["b"].numel());
    }

    [Fact]
    public void ADirectoryOrMissingFileIsNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Load(temp.File("absent.safetensors")));
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.ReadHeader(temp.Path));
    }

    [Fact]
    public void SavingRefusesTensorsSafetensorsCannotHold()
    {
        using var complex = zeros(2, dtype: ScalarType.ComplexFloat32);
        var e = Assert.Throws<ArgumentException>(() =>
            SafetensorsFile.Save(temp.File("c.safetensors"), new Dictionary<string, Tensor> { ["z"] = complex }));
        Assert.Contains("'z'", e.Message);
        Assert.False(File.Exists(temp.File("c.safetensors")));
        Assert.Empty(Directory.GetFiles(temp.Path));
    }
}
