using BenchmarkDotNet.Running;
using Rvpt.Benchmarks;

// Console modes for the side-by-side comparison (benchmarks/compare.sh); anything else goes to BenchmarkDotNet.
return args.FirstOrDefault() switch
{
    "step" => StepCommand.Run(args[1..]),
    "epoch" => EpochCommand.Run(args[1..]),
    "matmul" => MatmulCommand.Run(args[1..]),
    "loader" => LoaderCommand.Run(args[1..]),
    "memory" => MemoryCommand.Run(args[1..]),
    "kernels" => KernelsCommand.Run(args[1..]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(args);
    return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}
