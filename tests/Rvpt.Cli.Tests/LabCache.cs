using Rvpt.Testing;
using Xunit;

namespace Rvpt.Cli.Tests;

/// <summary>
/// One model cache for the tests of `rvpt lab`: the quick clean model is pre-trained once and the planted models are
/// reused, so the lab's tests share a collection (they run one after another, never building the same entry twice).
/// </summary>
public sealed class LabCache : IDisposable
{
    private readonly TempDirectory _temp = new();

    public string Path => _temp.File("cache");

    public void Dispose() => _temp.Dispose();
}

[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabCache>
{
    public const string Name = "lab model cache";
}
