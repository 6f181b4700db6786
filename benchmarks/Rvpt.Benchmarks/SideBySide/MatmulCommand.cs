using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>
/// <c>matmul</c> console mode: the machine's measured matrix-multiply peak through libtorch (an n x n by n x n
/// product, best of <c>--reps</c>), printed as one JSON line in GFLOP/s, with the product's relative error against
/// float64 (a check that a faster kernel, e.g. MKL's AVX-512 path forced on an AMD CPU, still computes the right thing).
/// <code>Rvpt.Benchmarks matmul --n 2048 --threads 2 --dtype float32|bfloat16 --reps 5</code>
/// </summary>
public static class MatmulCommand
{
    /// <summary>Runs the mode.</summary>
    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        int n = cl.Int("n", 2048), threads = cl.Int("threads", Environment.ProcessorCount), reps = cl.Int("reps", 5);
        var dtype = cl.DType();
        var device = cl.Device();
        torch.set_num_threads(threads);
        using var g = new Generator(1, CPU);
        using var a = randn(new long[] { n, n }, generator: g).to(dtype, device);
        using var b = randn(new long[] { n, n }, generator: g).to(dtype, device);
        var rates = new List<double>();
        for (int i = 0; i < reps + 1; i++)
        {
            var clock = Stopwatch.StartNew();
            using (var c = a.matmul(b)) BenchParameters.Synchronize(device);
            if (i > 0) rates.Add(2.0 * n * n * n / clock.Elapsed.TotalSeconds / 1e9);
        }
        double relativeError;
        using (var scope = NewDisposeScope())
        {
            var exact = a.to_type(ScalarType.Float64).matmul(b.to_type(ScalarType.Float64));
            relativeError = (a.matmul(b).to_type(ScalarType.Float64) - exact).norm().item<double>() / exact.norm().item<double>();
        }
        Console.WriteLine("{" + string.Join(", ",
            $"\"framework\": \"{CommandLine.Framework}\"",
            $"\"dtype\": \"{CommandLine.DTypeName(dtype)}\"",
            $"\"n\": {n}", $"\"threads\": {threads}",
            $"\"gflop_per_s_best\": {CommandLine.F(rates.Max())}",
            $"\"gflop_per_s_median\": {CommandLine.F(CommandLine.Median(rates))}",
            $"\"rel_error_vs_float64\": {relativeError.ToString("E3", System.Globalization.CultureInfo.InvariantCulture)}") + "}");
        return 0;
    }
}
