namespace Rvpt.Benchmarks;

/// <summary>Resident-set figures of this process from <c>/proc/self/status</c> (Linux); null elsewhere.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in MiB.</summary>
    public static double? PeakRssMiB() => Read("VmHWM:");

    /// <summary>Current resident set size (VmRSS) in MiB.</summary>
    public static double? RssMiB() => Read("VmRSS:");

    private static double? Read(string key)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0; // kB
        }
        return null;
    }
}
