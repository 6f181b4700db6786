namespace Rvpt.Clip;

/// <summary>Writes files so that readers see either the old or the complete new content, never a partial file.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes through <paramref name="write"/> into a temporary file in the target folder, flushes it to disk and
    /// renames it over <paramref name="path"/>. On failure the temporary file is deleted and the old file is kept.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { /* best effort */ }
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files that writers of <paramref name="path"/> left behind when their process was killed
    /// mid-write (<c>.&lt;name&gt;.&lt;guid&gt;.tmp</c> beside it). The file itself is never touched. Call it only
    /// when no other process is writing <paramref name="path"/>.
    /// </summary>
    /// <returns>How many files were deleted.</returns>
    public static int DeleteAbandonedTemporaryFiles(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) return 0;
        var deleted = 0;
        foreach (var temp in Directory.EnumerateFiles(dir, $".{Path.GetFileName(full)}.*.tmp"))
        {
            var guid = Path.GetFileName(temp)[(Path.GetFileName(full).Length + 2)..^4];
            if (!Guid.TryParseExact(guid, "N", out _)) continue;
            try
            {
                File.Delete(temp);
                deleted++;
            }
            catch (IOException) { /* best effort */ }
        }
        return deleted;
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true); w.Write(text); });
}
