using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

/// <summary>Readers see the old or the complete new file, never a partial one; leftovers of killed writers can be cleared.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory temp = new();

    /// <summary>Deletes the files.</summary>
    public void Dispose() => temp.Dispose();

    [Fact]
    public void AWriterFailingHalfwayKeepsTheOldFileAndLeavesNoTemporaryFile()
    {
        var path = temp.File("state.bin");
        File.WriteAllBytes(path, [1, 2, 3]);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[10_000]);
            throw new IOException("disk full");
        }));
        Assert.Equal("disk full", e.Message);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void AFailedSafetensorsSaveKeepsTheOldCheckpoint()
    {
        var path = temp.File("model.safetensors");
        using (var old = ones(4))
            SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["w"] = old });
        var before = File.ReadAllBytes(path);

        // A tensor that cannot be read fails the save.
        var disposed = zeros(4);
        disposed.Dispose();
        using var good = zeros(2);
        Assert.ThrowsAny<Exception>(() => SafetensorsFile.Save(path, new Dictionary<string, Tensor> { ["a"] = good, ["w"] = disposed }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void AbandonedTemporaryFilesOfThatFileAloneAreDeleted()
    {
        var path = temp.File("training-state.safetensors");
        File.WriteAllBytes(path, [9]);
        var mine = temp.Write($".training-state.safetensors.{Guid.NewGuid():N}.tmp", [1]);
        var other = temp.Write($".other.safetensors.{Guid.NewGuid():N}.tmp", [1]);
        var notOurs = temp.Write(".training-state.safetensors.backup.tmp", [1]);

        Assert.Equal(1, AtomicFile.DeleteAbandonedTemporaryFiles(path));
        Assert.False(File.Exists(mine));
        Assert.True(File.Exists(other));
        Assert.True(File.Exists(notOurs));
        Assert.Equal([9], File.ReadAllBytes(path));
        Assert.Equal(0, AtomicFile.DeleteAbandonedTemporaryFiles(temp.File("missing-folder/x")));
    }
}
