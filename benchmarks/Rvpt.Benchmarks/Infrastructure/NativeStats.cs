using System.Globalization;
using TorchSharp;

namespace Rvpt.Benchmarks;

/// <summary>
/// The benchmark process's side of <see cref="NativeStatsDiagnoser"/>: after setup it notes the live tensor count;
/// at cleanup it writes the peak RSS, the live tensors left over by all the measured invocations (0 when every
/// operation frees what it makes) and libtorch's peak live tensor count to a file named by the process id, which the
/// diagnoser in the host process reads when the benchmark process has exited.
/// </summary>
public sealed class NativeStats
{
    private long _liveAfterSetup;

    /// <summary>Folder of the per-process files.</summary>
    public static string Directory => Path.Combine(Path.GetTempPath(), "rvpt-bench-native-stats");

    /// <summary>The file a process with this id writes.</summary>
    public static string FileFor(int processId) => Path.Combine(Directory, $"{processId}.txt");

    /// <summary>Call at the end of [GlobalSetup].</summary>
    public void AfterSetup() => _liveAfterSetup = LiveAfterFullCollection();

    /// <summary>Call at the start of [GlobalCleanup], before disposing the benchmark's own tensors.</summary>
    public void BeforeCleanup()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var lines = new[]
        {
            Line("peak_rss_mib", ProcessMemory.PeakRssMiB() ?? double.NaN),
            Line("tensors_leaked", LiveAfterFullCollection() - _liveAfterSetup),
            Line("tensors_peak", torch.Tensor.PeakCount),
        };
        File.WriteAllLines(FileFor(Environment.ProcessId), lines);
    }

    /// <summary>
    /// Live tensors once the tensors that are only waiting for their finaliser (temporaries of setup code outside any
    /// dispose scope) are gone, so that the difference counts only tensors still referenced.
    /// </summary>
    private static long LiveAfterFullCollection()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return torch.Tensor.TotalCount;
    }

    private static string Line(string key, double value) => key + "=" + value.ToString("R", CultureInfo.InvariantCulture);
}
