namespace Rvpt.Clip.Tests;

/// <summary>How closely two equally long arrays agree: the largest difference and the share within tolerances.</summary>
internal readonly record struct PixelComparison(int Count, double MaxDiff, double FractionEqual, double FractionWithinTolerance, double Tolerance)
{
    public static PixelComparison Of(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected, int tolerance = 1)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Lengths differ: {actual.Length} vs {expected.Length}.");
        int equal = 0, within = 0, max = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var d = Math.Abs(actual[i] - expected[i]);
            if (d == 0) equal++;
            if (d <= tolerance) within++;
            max = Math.Max(max, d);
        }
        return new PixelComparison(actual.Length, max, (double)equal / actual.Length, (double)within / actual.Length, tolerance);
    }

    public static PixelComparison Of(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"Lengths differ: {actual.Length} vs {expected.Length}.");
        int equal = 0, within = 0;
        double max = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var d = Math.Abs((double)actual[i] - expected[i]);
            if (actual[i] == expected[i]) equal++;
            if (d <= tolerance) within++;
            max = Math.Max(max, double.IsNaN(d) ? double.PositiveInfinity : d);
        }
        return new PixelComparison(actual.Length, max, (double)equal / actual.Length, (double)within / actual.Length, tolerance);
    }

    public override string ToString() =>
        $"{Count} values: max |diff| {MaxDiff:G6}, equal {FractionEqual:P4}, within {Tolerance:G4} {FractionWithinTolerance:P4}";
}
