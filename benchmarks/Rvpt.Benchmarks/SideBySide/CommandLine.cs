using System.Globalization;
using static TorchSharp.torch;

namespace Rvpt.Benchmarks;

/// <summary>The few <c>--name value</c> options of the console modes.</summary>
public sealed class CommandLine(string[] args)
{
    /// <summary>The value of <c>--name</c>, or <paramref name="fallback"/>.</summary>
    public string Get(string name, string fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    /// <summary>Whether the switch <c>--name</c> is present.</summary>
    public bool Flag(string name) => Array.IndexOf(args, "--" + name) >= 0;

    /// <summary>An integer option.</summary>
    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>A dtype option: float32 or bfloat16.</summary>
    public ScalarType DType(string fallback = "float32") => Get("dtype", fallback).ToLowerInvariant() switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        var other => throw new ArgumentException($"--dtype {other}: expected float32 or bfloat16."),
    };

    /// <summary>The device option: cpu, or cuda when available.</summary>
    public Device Device()
    {
        var name = Get("device", "cpu");
        if (name == "cuda" && !cuda.is_available()) throw new ArgumentException("--device cuda: no CUDA device (a CUDA backend build and a GPU are needed).");
        return BenchParameters.ToDevice(name);
    }

    /// <summary>The <c>framework</c> field of every console mode's JSON line.</summary>
    public const string Framework = "TorchSharp 0.107.0 (libtorch 2.10)";

    /// <summary>A dtype as the JSON lines and the reference script name it: float32 or bfloat16.</summary>
    public static string DTypeName(ScalarType dtype) => dtype == ScalarType.BFloat16 ? "bfloat16" : "float32";

    /// <summary>Median of the values.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// The harness the switches ask for: <c>--class-token-last-block</c> sets
    /// <see cref="DeepPromptInjector.ClassTokenOnlyLastBlock"/>, <c>--skip-prompt-outputs</c>
    /// <see cref="DeepPromptInjector.SkipReplacedPromptOutputs"/>; <c>--cache-trunk</c> and <c>--cache-frozen</c> keep
    /// per-sample trunk outputs and frozen class tokens for <paramref name="samples"/> samples.
    /// </summary>
    public RvptStepHarness Harness(Device device, ScalarType dtype, int samples)
    {
        var harness = new RvptStepHarness(device, dtype, classTokenOnlyLastBlock: Flag("class-token-last-block"), skipPromptOutputs: Flag("skip-prompt-outputs"));
        if (Flag("cache-trunk") || Flag("cache-frozen")) harness.UseCaches(samples, Flag("cache-trunk"), Flag("cache-frozen"));
        return harness;
    }

    /// <summary>The step variant of <see cref="Harness"/> in words, for the JSON output.</summary>
    public string StepVariant()
    {
        var parts = new List<string>();
        if (Flag("cache-trunk")) parts.Add("trunk cached");
        if (Flag("cache-frozen")) parts.Add("frozen branch cached");
        if (Flag("class-token-last-block")) parts.Add("class-token-only last block");
        if (Flag("skip-prompt-outputs")) parts.Add("prompt outputs skipped");
        return parts.Count == 0 ? "" : " (" + string.Join(", ", parts) + ")";
    }

    /// <summary>Formats a number for the JSON output.</summary>
    public static string F(double value) => double.IsFinite(value) ? value.ToString("0.######", CultureInfo.InvariantCulture) : "null";
}
