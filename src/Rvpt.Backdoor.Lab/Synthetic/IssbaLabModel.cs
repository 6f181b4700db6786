using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Rvpt.Clip;

namespace Rvpt.Backdoor.Lab;

/// <summary>
/// The lab's ISSBA model: read from <see cref="IssbaLabOptions.ModelPath"/>, or trained on the world and kept in the
/// lab's store as <c>issba-{hash}/issba.safetensors</c> next to a <c>settings.json</c> and <c>report.json</c> (PSNR,
/// bit accuracy, time), written only when complete.
/// </summary>
internal static class IssbaLabModel
{
    private const long AttackerSeed = 5;
    private static readonly JsonSerializerOptions KeyJson = new() { WriteIndented = false };

    /// <summary>The cache-key part of the trigger: the file's hash, or the training settings.</summary>
    public static object Settings(IssbaLabOptions options) => options.ModelPath is { } path
        ? new { ModelSha256 = Sha256(path) }
        : new { options.Model, options.Training, options.TrainImages, AttackerSeed };

    /// <summary>Loads or trains the model (the caller owns it).</summary>
    public static IssbaModel Get(SyntheticModelStore store, SyntheticWorld world, IssbaLabOptions options, ILogger logger,
        IProgress<SyntheticLabProgress>? progress, CancellationToken cancellationToken)
    {
        if (options.ModelPath is { } file) return IssbaModel.Load(file);
        var settings = JsonSerializer.Serialize(Settings(options), KeyJson);
        var folder = store.EntryPath("issba", settings);
        var modelFile = Path.Combine(folder, "issba.safetensors");
        var settingsFile = Path.Combine(folder, "settings.json");
        if (File.Exists(modelFile) && File.Exists(settingsFile) && File.ReadAllText(settingsFile) == settings)
        {
            logger.LogInformation("Reusing the ISSBA model from {Path}.", folder);
            return IssbaModel.Load(modelFile);
        }
        logger.LogInformation("Training the ISSBA model ({Steps} steps of {Batch} images).", options.Training.Steps, options.Training.BatchSize);
        var model = new IssbaModel(options.Model);
        try
        {
            using var train = world.ToLabeledDataset(SyntheticWorld.SplitSeed(AttackerSeed, SyntheticSplit.Train), options.TrainImages);
            using var validation = world.ToLabeledDataset(SyntheticWorld.SplitSeed(AttackerSeed, SyntheticSplit.Validation), options.Training.EvaluationImages);
            var report = IssbaTrainer.Train(model, train, validation, options.Training,
                progress is null ? null : new InlineProgress<IssbaTrainingProgress>(p => progress.Report(new SyntheticLabProgress("training the ISSBA encoder/decoder", p.Step, p.TotalSteps, p.Loss))),
                cancellationToken);
            logger.LogInformation("ISSBA model: PSNR {Psnr:F1} dB, bit accuracy {Accuracy:P1}, {Seconds:F0} s.", report.Psnr, report.BitAccuracy, report.Elapsed.TotalSeconds);
            Directory.CreateDirectory(folder);
            model.Save(modelFile);
            AtomicFile.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(report));
            AtomicFile.WriteAllText(settingsFile, settings); // last: marks the entry complete
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static string Sha256(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"Cannot read the ISSBA model '{path}': {e.Message}", e);
        }
    }
}
