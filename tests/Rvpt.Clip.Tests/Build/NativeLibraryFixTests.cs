using System.Reflection;
using Rvpt.Build;
using Xunit;

namespace Rvpt.Clip.Tests;

/// <summary>The build-time ELF patch that lets TorchSharp's native library load on older libstdc++.</summary>
public sealed class NativeLibraryFixTests
{
    private static string PackagedLibrary()
    {
        var root = typeof(NativeLibraryFixTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "NuGetPackageRoot").Value!;
        return Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    // The versions this machine's libstdc++ defines, as a GCC 12 libstdc++ would (no GLIBCXX_3.4.32). Built from the
    // real library so that the other requirements (CXXABI_1.3.x, older GLIBCXX) are satisfied as they are in practice.
    private static HashSet<string> SystemVersionsWithout32()
    {
        var system = ElfVersionPatcher.FindSystemLibrary();
        Skip.If(system is null, "no system libstdc++.so.6 found");
        var versions = new HashSet<string>(ElfVersionPatcher.ReadDefinedVersions(system!));
        versions.Remove("GLIBCXX_3.4.32");
        versions.Remove("GLIBCXX_3.4.33");
        return versions;
    }

    [SkippableFact]
    public void PatchesOnlyTheMarkerVersionAndIsIdempotent()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "ELF patching applies to Linux only.");
        using var temp = new Testing.TempDirectory();
        var copy = temp.File("libLibTorchSharp.so");
        File.Copy(PackagedLibrary(), copy);
        var original = File.ReadAllBytes(copy);
        var oldSystem = SystemVersionsWithout32();

        Assert.Contains(ElfVersionPatcher.ReadRequirements(copy), r => r is { Version: "GLIBCXX_3.4.32", Weak: false });
        var first = ElfVersionPatcher.Patch(copy, oldSystem);
        Assert.Equal(ElfPatchOutcome.Patched, first.Outcome);
        Assert.Equal(new[] { "GLIBCXX_3.4.32" }, first.MissingVersions);
        Assert.Contains(ElfVersionPatcher.ReadRequirements(copy), r => r is { Version: "GLIBCXX_3.4.32", Weak: true });

        var patched = File.ReadAllBytes(copy);
        Assert.Equal(original.Length, patched.Length);
        Assert.Equal(1, original.Zip(patched).Count(p => p.First != p.Second)); // only the vna_flags byte changes
        Assert.Equal(ElfPatchOutcome.AlreadyPatched, ElfVersionPatcher.Patch(copy, oldSystem).Outcome);
        Assert.Equal(patched, File.ReadAllBytes(copy));
    }

    [SkippableFact]
    public void LeavesTheFileUntouchedWhenTheSystemLibraryIsNewEnough()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "ELF patching applies to Linux only.");
        using var temp = new Testing.TempDirectory();
        var copy = temp.File("libLibTorchSharp.so");
        File.Copy(PackagedLibrary(), copy);
        var before = File.ReadAllBytes(copy);
        var stamp = File.GetLastWriteTimeUtc(copy);
        var newSystem = SystemVersionsWithout32();
        newSystem.Add("GLIBCXX_3.4.32");
        Assert.Equal(ElfPatchOutcome.NotNeeded, ElfVersionPatcher.Patch(copy, newSystem).Outcome);
        Assert.Equal(before, File.ReadAllBytes(copy));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(copy));
    }

    [SkippableFact]
    public void RefusesWhenOtherSymbolsNeedTheMissingVersion()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "ELF patching applies to Linux only.");
        using var temp = new Testing.TempDirectory();
        var copy = temp.File("libLibTorchSharp.so");
        File.Copy(PackagedLibrary(), copy);
        var before = File.ReadAllBytes(copy);
        var oldSystem = SystemVersionsWithout32();
        var result = ElfVersionPatcher.Patch(copy, oldSystem, safeSymbols: Array.Empty<string>());
        Assert.Equal(ElfPatchOutcome.Unsafe, result.Outcome);
        Assert.Contains("_ZSt21ios_base_library_initv", result.BlockingSymbols);
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [SkippableFact]
    public void TheBuildOutputLoadsOnThisMachine()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "ELF patching applies to Linux only.");
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var system = ElfVersionPatcher.FindSystemLibrary();
        Assert.NotNull(system);
        var defined = ElfVersionPatcher.ReadDefinedVersions(system!);
        var weak = ElfVersionPatcher.ReadRequirements(output).Single(r => r.Version == "GLIBCXX_3.4.32").Weak;
        Assert.Equal(!defined.Contains("GLIBCXX_3.4.32"), weak); // patched exactly when the system lacks the version
        using var t = TorchSharp.torch.ones(3);                    // and the native library loads
        Assert.Equal(3f, t.sum().item<float>());
    }

    [Fact]
    public void NonElfInputIsRejected()
    {
        using var temp = new Testing.TempDirectory();
        File.WriteAllText(temp.File("not.so"), "hello");
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.Patch(temp.File("not.so"), new HashSet<string>()));
        Assert.Contains("not.so", e.Message);
    }
}
