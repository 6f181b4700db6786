using Xunit;

namespace Rvpt.Testing;

/// <summary>
/// Locates the golden fixtures in <c>../shared/fixtures</c> (relative to the repository root) or in the folder
/// named by <c>RVPT_FIXTURES</c>. Without them a test is skipped with a message, except under CI (<c>CI=true</c>),
/// where a missing fixture fails the test.
/// </summary>
public static class Fixtures
{
    /// <summary>The repository root: the nearest folder above the test binaries that holds Rvpt.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Rvpt.sln")))
                    return dir.FullName;
            }
            throw new InvalidOperationException($"Rvpt.sln not found above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>
    /// A file of this repository's own checkpoint fixtures (<c>tests/fixtures/checkpoints</c>, made by the committed
    /// <c>make_checkpoints.py</c>; see the README there). They are part of the repository, so they are always present.
    /// </summary>
    public static string CheckpointFixture(string relativePath)
    {
        var path = Path.Combine(RepositoryRoot, "tests", "fixtures", "checkpoints", relativePath);
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"Repository fixture missing: {path}", path);
        return path;
    }

    /// <summary>Folder of the tiny CLIP golden fixtures; skips (or fails under CI) when it is missing.</summary>
    public static string ClipTiny => Require("clip-tiny", "MANIFEST.md");

    /// <summary>Full path of a file in the tiny CLIP fixtures; skips (or fails under CI) when it is missing.</summary>
    public static string ClipTinyFile(string name)
    {
        var path = Path.Combine(ClipTiny, name);
        Check(File.Exists(path), $"fixture file {path} is missing");
        return path;
    }

    private static string Require(string set, string marker)
    {
        var candidates = new List<string>();
        var env = Environment.GetEnvironmentVariable("RVPT_FIXTURES");
        if (!string.IsNullOrWhiteSpace(env))
        {
            candidates.Add(Path.Combine(env, set));
            candidates.Add(env);
        }
        else
        {
            candidates.Add(Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "fixtures", set)));
        }
        var found = candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, marker)));
        Check(found is not null, $"fixtures '{set}' not found (looked in: {string.Join(", ", candidates)}; set RVPT_FIXTURES to the fixtures folder)");
        return found!;
    }

    private static void Check(bool condition, string message)
    {
        if (condition) return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail(message + " — fixtures are required under CI=true.");
        Skip.If(true, message);
    }
}
