namespace Rvpt.Benchmarks;

/// <summary>
/// Finds CLIP's real vocabulary (vocab.json + merges.txt) as the tests do: in the folder named by
/// <c>RVPT_FIXTURES</c> (or its <c>clip-tiny</c> sub-folder), else in <c>../shared/fixtures/clip-tiny</c> beside the
/// repository (the nearest folder above the working directory or the binaries that holds Rvpt.sln).
/// </summary>
public static class BenchmarkFixtures
{
    /// <summary>The folder holding vocab.json and merges.txt, or null.</summary>
    public static string? VocabularyDirectory() =>
        Candidates().FirstOrDefault(c => File.Exists(Path.Combine(c, "vocab.json")) && File.Exists(Path.Combine(c, "merges.txt")));

    /// <summary>The folders looked in, for messages.</summary>
    public static string Searched() => string.Join(", ", Candidates());

    private static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("RVPT_FIXTURES");
        if (!string.IsNullOrWhiteSpace(env))
        {
            yield return Path.Combine(env, "clip-tiny");
            yield return env;
            yield break;
        }
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Rvpt.sln")))
                {
                    yield return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "fixtures", "clip-tiny"));
                    break;
                }
            }
        }
    }
}
