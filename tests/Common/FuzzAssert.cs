using Xunit;

namespace Rvpt.Testing;

/// <summary>
/// The contract the bad-input fuzz tests check on every mutated file: it either loads (and then passes the caller's
/// own checks) or is refused with an <see cref="InvalidDataException"/> whose message names it; any other exception
/// fails the test.
/// </summary>
public static class FuzzAssert
{
    /// <summary>Runs <paramref name="load"/> on the file at <paramref name="path"/>.</summary>
    /// <param name="what">The case, for failure messages.</param>
    /// <param name="path">The mutated file; a refusal must name it.</param>
    /// <param name="load">Loads the file and checks what it got.</param>
    /// <returns><see langword="true"/> when it loaded, <see langword="false"/> when it was refused.</returns>
    public static bool LoadsOrRefuses(string what, string path, Action load)
    {
        try
        {
            load();
            return true;
        }
        catch (InvalidDataException e)
        {
            Assert.True(e.Message.Contains(path, StringComparison.Ordinal), $"{what}: message does not name the file: {e.Message}");
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what} threw {e.GetType().Name}, not InvalidDataException: {e.Message}\n{e.StackTrace}");
            throw;
        }
    }
}
