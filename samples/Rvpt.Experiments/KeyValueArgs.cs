// key=value arguments of the calib and gateb experiments: unknown keys are refused with the known ones listed.
using System.Globalization;

internal static class KeyValueArgs
{
    /// <summary>The defaults with every <c>key=value</c> of <paramref name="args"/> applied.</summary>
    public static Dictionary<string, string> Parse(string[] args, IReadOnlyDictionary<string, string> defaults)
    {
        var a = new Dictionary<string, string>(defaults);
        foreach (var kv in args)
        {
            var i = kv.IndexOf('=');
            if (i < 0 || !defaults.ContainsKey(kv[..i])) throw new ArgumentException($"unknown argument {kv}; known: {string.Join(", ", defaults.Keys)}");
            a[kv[..i]] = kv[(i + 1)..];
        }
        return a;
    }

    public static int Int(this Dictionary<string, string> a, string key) => int.Parse(a[key], CultureInfo.InvariantCulture);

    public static double Double(this Dictionary<string, string> a, string key) => double.Parse(a[key], CultureInfo.InvariantCulture);

    /// <summary>A comma-separated list of numbers.</summary>
    public static double[] Doubles(this Dictionary<string, string> a, string key) =>
        a[key].Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
}
