using Rvpt.Backdoor.Lab;
using Rvpt.Clip;
using Rvpt.Testing;
using Xunit;

namespace Rvpt.Backdoor.Tests;

public class SyntheticModelStoreTests
{
    [Fact]
    public void Builds_once_then_reuses_the_entry_bit_identically()
    {
        using var temp = new TempDirectory();
        var store = new SyntheticModelStore(temp.File("store"));
        int builds = 0;
        ClipModel Build(string scratch)
        {
            builds++;
            return ToyShapes.Clip(scratch, seed: 5);
        }

        using var first = store.GetOrBuild("toy", "{\"a\":1}", Build);
        Assert.True(store.Contains("toy", "{\"a\":1}"));
        using var second = store.GetOrBuild("toy", "{\"a\":1}", Build);
        Assert.Equal(1, builds);
        var a = first.state_dict();
        var b = second.state_dict();
        foreach (var (key, value) in a) Assert.True(value.equal(b[key]).all().item<bool>(), key);
        Assert.NotNull(second.Tokenizer);

        using var third = store.GetOrBuild("toy", "{\"a\":2}", Build); // other settings, other entry
        Assert.Equal(2, builds);
        Assert.NotEqual(store.EntryPath("toy", "{\"a\":1}"), store.EntryPath("toy", "{\"a\":2}"));
    }

    [Fact]
    public void A_failed_build_leaves_no_entry_and_no_scratch_folder()
    {
        using var temp = new TempDirectory();
        var store = new SyntheticModelStore(temp.File("store"));
        Assert.Throws<InvalidOperationException>(() => store.GetOrBuild("toy", "s", _ => throw new InvalidOperationException("interrupted")));
        Assert.False(store.Contains("toy", "s"));
        Assert.Empty(Directory.GetDirectories(store.Root));
    }

    [Fact]
    public void An_entry_without_its_settings_file_is_rebuilt()
    {
        using var temp = new TempDirectory();
        var store = new SyntheticModelStore(temp.File("store"));
        int builds = 0;
        using (store.GetOrBuild("toy", "s", scratch => { builds++; return ToyShapes.Clip(scratch); })) { }
        File.Delete(Path.Combine(store.EntryPath("toy", "s"), "settings.json"));
        Assert.False(store.Contains("toy", "s"));
        using (store.GetOrBuild("toy", "s", scratch => { builds++; return ToyShapes.Clip(scratch); })) { }
        Assert.Equal(2, builds);
    }

    [Fact]
    public void Default_root_honours_RVPT_CACHE()
    {
        var old = Environment.GetEnvironmentVariable("RVPT_CACHE");
        try
        {
            Environment.SetEnvironmentVariable("RVPT_CACHE", "/some/where");
            Assert.Equal("/some/where", SyntheticModelStore.DefaultRoot());
        }
        finally
        {
            Environment.SetEnvironmentVariable("RVPT_CACHE", old);
        }
    }
}
