using System.Globalization;
using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt;

/// <summary>
/// The resumable state of a prompt-tuning run — prompts, SGD momentum buffer and completed epochs — written
/// atomically to <c>training-state.safetensors</c> after every epoch. Shuffling, augmentation and dropout are seeded
/// from (seed, epoch), so prompts, optimiser state and the epoch count are the whole RNG state a resume needs.
/// </summary>
internal static class TrainingState
{
    public const string FileName = "training-state.safetensors";

    public static void Save(string directory, DeepPromptInjector prompts, PromptSgd optimizer, int epochsCompleted, int seed)
    {
        var tensors = new Dictionary<string, Tensor> { ["prompts"] = prompts.Prompts };
        if (optimizer.MomentumBuffer is { } buffer) tensors["momentum_buffer"] = buffer;
        SafetensorsFile.Save(Path.Combine(directory, FileName), tensors, new Dictionary<string, string>
        {
            ["format"] = "rvpt-training-state",
            ["epochs_completed"] = epochsCompleted.ToString(CultureInfo.InvariantCulture),
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["prompts_shape"] = string.Join(",", prompts.Prompts.shape),
        });
    }

    /// <summary>Restores a saved state into <paramref name="prompts"/> and <paramref name="optimizer"/>; returns the completed epochs (0 without a file).</summary>
    public static int TryLoad(string directory, DeepPromptInjector prompts, PromptSgd optimizer, int seed)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return 0;
        var tensors = SafetensorsFile.Load(path, null, out var meta);
        try
        {
            if (!meta.TryGetValue("format", out var format) || format != "rvpt-training-state")
                throw new InvalidDataException($"{path}: not an Rvpt training state.");
            if (!tensors.TryGetValue("prompts", out var p) || !p.shape.SequenceEqual(prompts.Prompts.shape))
                throw new InvalidDataException($"{path}: saved prompts [{(p is null ? "none" : string.Join(", ", p.shape))}] do not fit the injector's [{string.Join(", ", prompts.Prompts.shape)}]; use another checkpoint folder.");
            if (meta.TryGetValue("seed", out var s) && s != seed.ToString(CultureInfo.InvariantCulture))
                throw new InvalidDataException($"{path}: saved with seed {s}, but this run uses seed {seed}; resuming would not reproduce the run.");
            using (no_grad()) prompts.Prompts.copy_(p);
            optimizer.LoadMomentum(tensors.GetValueOrDefault("momentum_buffer"));
            return int.Parse(meta["epochs_completed"], CultureInfo.InvariantCulture);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
