using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// Parameter sets of the benchmarks. Small by default (a <c>--job short</c> run of a class takes minutes on 2 cores);
/// the environment widens them for authoritative runs without recompiling:
/// <c>RVPT_BENCH_BATCH</c> (e.g. "8,32"), <c>RVPT_BENCH_DTYPES</c> ("Float32,BFloat16"), <c>RVPT_BENCH_THREADS</c>
/// ("1,2"), <c>RVPT_BENCH_DEVICES</c> ("cpu,cuda"; cuda is used only where a CUDA backend reports a device).
/// </summary>
public static class BenchParameters
{
    /// <summary>Images per step / forward. Default 8.</summary>
    public static IEnumerable<int> Batches() => Ints("RVPT_BENCH_BATCH", [8]);

    /// <summary>Compute element types. Default float32 and bfloat16.</summary>
    public static IEnumerable<ScalarType> DTypes() =>
        List("RVPT_BENCH_DTYPES", ["Float32", "BFloat16"]).Select(s => Enum.Parse<ScalarType>(s, ignoreCase: true));

    /// <summary>libtorch intra-op threads. Default: the machine's core count.</summary>
    public static IEnumerable<int> Threads() => Ints("RVPT_BENCH_THREADS", [Environment.ProcessorCount]);

    /// <summary>Devices: "cpu", plus "cuda" when <c>torch.cuda.is_available()</c> (a CUDA backend and a GPU).</summary>
    public static IEnumerable<string> Devices()
    {
        var requested = List("RVPT_BENCH_DEVICES", ["cpu", "cuda"]);
        foreach (var d in requested)
        {
            if (d == "cpu") yield return d;
            else if (d == "cuda" && cuda.is_available()) yield return d;
        }
    }

    /// <summary>The device named by a parameter value.</summary>
    public static Device ToDevice(string name) => name == "cuda" ? CUDA : CPU;

    /// <summary>Waits for queued GPU work (no-op on the CPU), so that a measured time covers the work.</summary>
    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }

    private static IEnumerable<int> Ints(string variable, int[] fallback) =>
        List(variable, fallback.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray())
            .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture));

    private static string[] List(string variable, string[] fallback)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value)
            ? fallback
            : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
