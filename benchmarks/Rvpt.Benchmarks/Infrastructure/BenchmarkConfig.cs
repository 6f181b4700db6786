using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;

namespace Rvpt.Benchmarks;

/// <summary>
/// Every benchmark's configuration: managed allocations (MemoryDiagnoser), native memory and tensor counts
/// (<see cref="NativeStatsDiagnoser"/>), throughput (<see cref="ThroughputColumn"/>); benchmarks in the
/// "NeedsVocabulary" category are left out, with a message, when CLIP's vocabulary is not found.
/// </summary>
public sealed class BenchmarkConfig : ManualConfig
{
    /// <summary>The category of benchmarks that need vocab.json + merges.txt.</summary>
    public const string NeedsVocabulary = "NeedsVocabulary";

    /// <summary>Creates the configuration.</summary>
    public BenchmarkConfig()
    {
        // BenchmarkDotNet's generated project turns off Directory.Build.props/targets, so it would get neither the
        // libtorch backend package nor the libstdc++ fix of the native library (build/NativeLibraryFix.targets): it
        // then fails to load libtorch on Debian 12. Turning the imports back on gives it the same build as this project.
        // A mutator changes every job (--job dry/short/...) instead of adding one.
        AddJob(Job.Default.WithArguments(
        [
            new MsBuildArgument("/p:ImportDirectoryBuildProps=true"),
            new MsBuildArgument("/p:ImportDirectoryBuildTargets=true"),
        ]).AsMutator());
        AddDiagnoser(MemoryDiagnoser.Default);
        AddDiagnoser(new NativeStatsDiagnoser());
        AddColumn(new ThroughputColumn());
        if (BenchmarkFixtures.VocabularyDirectory() is null)
        {
            Console.WriteLine($"Note: CLIP's vocab.json/merges.txt not found ({BenchmarkFixtures.Searched()}); the tokenizer, " +
                              "text-encoding and zero-shot benchmarks are skipped. Set RVPT_FIXTURES to the fixtures folder.");
            AddFilter(new SimpleFilter(b => !b.Descriptor.Categories.Contains(NeedsVocabulary)));
        }
    }
}
