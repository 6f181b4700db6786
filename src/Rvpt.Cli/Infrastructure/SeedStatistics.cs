namespace Rvpt.Cli;

/// <summary>Mean and sample standard deviation over seeds (0 for a single value).</summary>
internal static class SeedStatistics
{
    public static (double Mean, double Sd) MeanSd(IReadOnlyCollection<double> values)
    {
        double mean = values.Average();
        double sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return (mean, sd);
    }
}
