using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Analysers;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Validators;

namespace Rvpt.Benchmarks;

/// <summary>
/// Adds columns for native memory: the benchmark process's peak RSS, the tensors left alive by the measured
/// invocations, and libtorch's peak live tensor count. Reads what <see cref="NativeStats"/> wrote in the benchmark
/// process (it runs in the host, which sees only the process id).
/// </summary>
public sealed class NativeStatsDiagnoser : IDiagnoser
{
    private readonly ConcurrentDictionary<BenchmarkCase, int> _processIds = new();
    private readonly ConcurrentDictionary<BenchmarkCase, Dictionary<string, double>> _stats = new();

    /// <inheritdoc />
    public IEnumerable<string> Ids => ["NativeStats"];

    /// <inheritdoc />
    public IEnumerable<IExporter> Exporters => [];

    /// <inheritdoc />
    public IEnumerable<IAnalyser> Analysers => [];

    /// <inheritdoc />
    public RunMode GetRunMode(BenchmarkCase benchmarkCase) => RunMode.NoOverhead;

    /// <inheritdoc />
    public bool RequiresBlockingAcknowledgments(BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public void Handle(HostSignal signal, DiagnoserActionParameters parameters)
    {
        if (signal == HostSignal.BeforeAnythingElse) _processIds[parameters.BenchmarkCase] = parameters.Process.Id;
        if (signal != HostSignal.AfterProcessExit || !_processIds.TryGetValue(parameters.BenchmarkCase, out var pid)) return;
        var file = NativeStats.FileFor(pid);
        if (!File.Exists(file)) return;
        var values = new Dictionary<string, double>();
        foreach (var line in File.ReadAllLines(file))
        {
            var eq = line.IndexOf('=');
            if (eq > 0) values[line[..eq]] = double.Parse(line[(eq + 1)..], CultureInfo.InvariantCulture);
        }
        File.Delete(file);
        _stats[parameters.BenchmarkCase] = values;
    }

    /// <inheritdoc />
    public IEnumerable<Metric> ProcessResults(DiagnoserResults results)
    {
        if (!_stats.TryGetValue(results.BenchmarkCase, out var values)) yield break;
        if (values.TryGetValue("peak_rss_mib", out var rss)) yield return new Metric(Descriptor.PeakRss, rss);
        if (values.TryGetValue("tensors_leaked", out var leaked)) yield return new Metric(Descriptor.Leaked, leaked);
        if (values.TryGetValue("tensors_peak", out var peak)) yield return new Metric(Descriptor.Peak, peak);
    }

    /// <inheritdoc />
    public void DisplayResults(ILogger logger)
    {
    }

    /// <inheritdoc />
    public IEnumerable<ValidationError> Validate(ValidationParameters validationParameters) => [];

    private sealed class Descriptor(string id, string name, string legend, string format, int priority) : IMetricDescriptor
    {
        public static readonly Descriptor PeakRss = new("PeakRss", "Peak RSS MiB", "Peak resident set size of the benchmark process (VmHWM), MiB", "N0", 0);
        public static readonly Descriptor Leaked = new("TensorsLeaked", "Tensors left", "Live tensors left over by all measured invocations (0 = no leak)", "N0", 1);
        public static readonly Descriptor Peak = new("TensorsPeak", "Peak tensors", "Peak number of live TorchSharp tensors in the benchmark process", "N0", 2);

        public string Id => id;
        public string DisplayName => name;
        public string Legend => legend;
        public string NumberFormat => format;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Unit => "";
        public bool TheGreaterTheBetter => false;
        public int PriorityInCategory => priority;
        public bool GetIsAvailable(Metric metric) => true;
    }
}
