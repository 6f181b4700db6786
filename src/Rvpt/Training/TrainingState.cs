using System.Globalization;
using System.Text.Json;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// The resumable state of a prompt-tuning run — prompts, SGD momentum buffer and the position (completed epochs and
/// steps) — written atomically to <c>training-state.safetensors</c>. Shuffling, augmentation and dropout are seeded
/// from (seed, epoch, step), so these plus the run's settings (<see cref="TrainingRun"/>) are the whole state a resume
/// needs. A non-finite state is never written, so the file always holds the last good state.
/// </summary>
internal static class TrainingState
{
    public const string FileName = "training-state.safetensors";
    private const string Format = "rvpt-training-state";

    public static void Save(string directory, DeepPromptInjector prompts, IPromptOptimizer optimizer, TrainingPosition position,
        SortedDictionary<string, string> run)
    {
        var tensors = new Dictionary<string, Tensor> { ["prompts"] = prompts.Prompts };
        foreach (var (name, state) in optimizer.SaveState()) tensors[name] = state;
        foreach (var (name, t) in tensors)
        {
            using var scope = NewDisposeScope();
            if (is_floating_point(t) && !isfinite(t).all().item<bool>())
                throw new InvalidOperationException(
                    $"Refusing to write a training state with NaN or infinite values in '{name}' ({position}); {Path.Combine(directory, FileName)} keeps the last good state.");
        }
        SafetensorsFile.Save(Path.Combine(directory, FileName), tensors, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["epochs_completed"] = position.Epoch.ToString(CultureInfo.InvariantCulture),
            ["steps_completed"] = position.Step.ToString(CultureInfo.InvariantCulture),
            ["seed"] = run["seed"],
            ["prompts_shape"] = string.Join(",", prompts.Prompts.shape),
            ["run"] = TrainingRun.ToJson(run),
        });
    }

    /// <summary>
    /// Restores a saved state into <paramref name="prompts"/> and <paramref name="optimizer"/> and returns its position
    /// (0, 0 without a file). Deletes temporary files left by a writer that was killed.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is damaged, not a training state, or was written by a run with other settings.</exception>
    public static TrainingPosition TryLoad(string directory, DeepPromptInjector prompts, IPromptOptimizer optimizer, SortedDictionary<string, string> run)
    {
        var path = Path.Combine(directory, FileName);
        AtomicFile.DeleteAbandonedTemporaryFiles(path);
        if (!File.Exists(path)) return default;
        var tensors = SafetensorsFile.Load(path, null, out var meta);
        try
        {
            if (!meta.TryGetValue("format", out var format) || format != Format)
                throw new InvalidDataException($"{path}: not an Rvpt training state (format '{format ?? "(none)"}', expected '{Format}').");
            if (!tensors.TryGetValue("prompts", out var p) || !p.shape.SequenceEqual(prompts.Prompts.shape) || p.dtype != prompts.Prompts.dtype)
                throw new InvalidDataException($"{path}: saved prompts {(p is null ? "(none)" : $"{p.dtype} [{string.Join(", ", p.shape)}]")} do not fit the injector's {prompts.Prompts.dtype} [{string.Join(", ", prompts.Prompts.shape)}]; use another checkpoint folder.");
            if (meta.TryGetValue("seed", out var s) && s != run["seed"])
                throw new InvalidDataException($"{path}: saved with seed {s}, but this run uses seed {run["seed"]}; resuming would not reproduce the run.");
            if (meta.TryGetValue("run", out var savedRun))
            {
                List<string> differences;
                try
                {
                    differences = TrainingRun.Differences(savedRun, run);
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"{path}: the 'run' metadata is not a JSON object of strings ({e.Message}).", e);
                }
                if (differences.Count > 0)
                    throw new InvalidDataException(
                        $"{path}: written by a run with other settings, so resuming would not reproduce it: {string.Join("; ", differences)}. Use the same settings and data, or another checkpoint folder.");
            }
            var unexpected = tensors.Keys.Except(["prompts", .. optimizer.StateNames]).ToArray();
            if (unexpected.Length > 0)
                throw new InvalidDataException($"{path}: unexpected tensors {string.Join(", ", unexpected)}.");
            var position = new TrainingPosition(Count(path, meta, "epochs_completed", required: true), Count(path, meta, "steps_completed", required: false));
            using (no_grad()) prompts.Prompts.copy_(p);
            optimizer.LoadState(tensors.Where(e => e.Key != "prompts").ToDictionary(e => e.Key, e => e.Value), path);
            return position;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static int Count(string path, IReadOnlyDictionary<string, string> meta, string key, bool required)
    {
        if (!meta.TryGetValue(key, out var text))
            return required ? throw new InvalidDataException($"{path}: metadata '{key}' is missing.") : 0;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"{path}: metadata '{key}' is '{text}', expected a non-negative integer.");
    }
}
