using Rvpt.Testing;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Cli.Tests;

/// <summary>
/// The global <c>--threads</c> option sets libtorch's intra-op threads for the process. The setting is process-wide,
/// so these tests run alone (a collection without parallelisation) and restore it.
/// </summary>
[Collection(ProcessWideSettings.Name)]
public class ThreadsTests
{
    [SkippableFact]
    public void Threads_sets_torch_intra_op_threads_and_refuses_negative_counts()
    {
        using var temp = new TempDirectory();
        var model = TestData.TinyModel(temp.File("model"));
        var images = TestData.ImageFolder(temp.File("images"), 1, seed: 31);
        var classes = TestData.ClassesFile(temp.File("classes.txt"));
        int original = get_num_threads();
        int wanted = original == 1 ? 2 : 1;
        try
        {
            var result = CliRun.Run("--threads", wanted.ToString(System.Globalization.CultureInfo.InvariantCulture), "zero-shot",
                "--model", model, "--images", images, "--classes", classes, "--format", "csv");
            Assert.True(result.ExitCode == 0, result.Describe());
            Assert.Equal(wanted, get_num_threads());
            CliRun.AssertBadInput(CliRun.Run("zero-shot", "--model", model, "--images", images, "--classes", classes, "--threads", "-1"), "--threads", "-1");
        }
        finally
        {
            set_num_threads(original);
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideSettings
{
    public const string Name = "process-wide settings";
}
