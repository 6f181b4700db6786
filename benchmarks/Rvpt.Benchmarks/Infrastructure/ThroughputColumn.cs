using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Rvpt.Benchmarks;

/// <summary>
/// Items per second from the mean time of one operation and the items one operation handles: the value of the
/// benchmark's <c>Batch</c> parameter (images) or its <c>Items</c> parameter (images, prompts), or 1.
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(ThroughputColumn);

    /// <inheritdoc />
    public string ColumnName => "Items/s";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Images (or prompts) per second: items per operation (Batch or Items parameter, else 1; 1 for [SingleItem] benchmarks) / mean time";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "NA";
        double items = 1;
        bool single = benchmarkCase.Descriptor.WorkloadMethod.IsDefined(typeof(SingleItemAttribute), inherit: false);
        foreach (var name in new[] { "Batch", "Items" })
        {
            if (!single && benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == name)?.Value is int n) items = n;
        }
        return (items / (stats.Mean * 1e-9)).ToString("N1", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
