namespace Rvpt.Clip.Tests;

/// <summary>A fresh temporary folder for generated test images, deleted on dispose.</summary>
internal sealed class TempImageFolder : IDisposable
{
    public TempImageFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rvpt-imaging-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] content)
    {
        var path = File(name);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}
