using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>One step of <see cref="IssbaTrainer.Train"/>.</summary>
/// <param name="Step">Zero-based step.</param>
/// <param name="TotalSteps">Steps of the run.</param>
/// <param name="Loss">The step's loss.</param>
/// <param name="BitAccuracy">Fraction of the batch's secret bits the decoder read correctly.</param>
public sealed record IssbaTrainingProgress(int Step, int TotalSteps, double Loss, double BitAccuracy);

/// <summary>What an ISSBA training run achieved, measured on the validation images after an 8-bit round trip.</summary>
/// <param name="Steps">Steps run.</param>
/// <param name="Psnr">Mean PSNR in dB of the encoded images against the originals (higher is less visible).</param>
/// <param name="BitAccuracy">Fraction of secret bits decoded correctly, random secrets.</param>
/// <param name="TriggerBitAccuracy">The same for the trigger's default secret ("Stega!!").</param>
/// <param name="MeanAbsResidual">Mean absolute change of a pixel value.</param>
/// <param name="Elapsed">Wall time of the training.</param>
public sealed record IssbaTrainingReport(int Steps, double Psnr, double BitAccuracy, double TriggerBitAccuracy, double MeanAbsResidual, TimeSpan Elapsed);

/// <summary>
/// Trains an <see cref="IssbaModel"/>'s encoder and decoder together (Adam) on clean images with random secrets, as
/// StegaStamp and BackdoorBox's ISSBA do; see <see cref="IssbaTrainingOptions"/> for the loss. Images of another size
/// are resized to the model's (bicubic, whole image). Deterministic for a seed on a given device.
/// </summary>
public static class IssbaTrainer
{
    /// <summary>Trains <paramref name="model"/> in place on <paramref name="train"/> and measures it on <paramref name="validation"/>.</summary>
    /// <exception cref="ArgumentException">Invalid options or an empty source.</exception>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static IssbaTrainingReport Train(IssbaModel model, ILabeledImageSource train, ILabeledImageSource validation, IssbaTrainingOptions? options = null,
        IProgress<IssbaTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        options = options ?? new IssbaTrainingOptions();
        options.Validate();
        if (train.Count == 0) throw new ArgumentException("The training source is empty.", nameof(train));
        if (validation.Count == 0) throw new ArgumentException("The validation source is empty.", nameof(validation));
        var clock = Stopwatch.StartNew();
        var bits = model.Options.SecretBits;
        var random = new Random(unchecked((int)(options.Seed ^ (options.Seed >> 32))));
        var generator = new Generator(unchecked((ulong)options.Seed), CPU);
        var parameters = model.Encoder.parameters().Concat(model.Decoder.parameters()).ToList();
        using var optimizer = optim.Adam(parameters, options.LearningRate);
        model.Encoder.train();
        model.Decoder.train();
        try
        {
            for (int step = 0; step < options.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var indices = Enumerable.Range(0, options.BatchSize).Select(_ => random.Next(train.Count)).ToArray();
                float value, accuracy;
                using (var scope = NewDisposeScope())
                {
                var images = Load(train, indices, model, cancellationToken);
                var secrets = rand(new long[] { indices.Length, bits }, ScalarType.Float32, CPU, generator: generator).lt(0.5).to_type(ScalarType.Float32).to(model.Device);
                double ramp = step < options.SecretOnlySteps ? 0 : options.RampSteps == 0 ? 1 : Math.Min(1.0, (step - options.SecretOnlySteps + 1.0) / options.RampSteps);
                var residual = model.Encoder.forward(secrets, images);
                var encoded = images.add(residual).clamp(0, 1);
                var noise = randn(encoded.shape, ScalarType.Float32, CPU, generator: generator).to(model.Device);
                var transmitted = encoded.add(noise.mul(options.NoiseStd * ramp)).clamp(0, 1);
                // 8-bit storage, straight-through: the forward pass sees the rounded image, the gradient passes unchanged.
                transmitted = transmitted.add(transmitted.mul(255).round().div(255).sub(transmitted).detach());
                var logits = model.Decoder.forward(transmitted);
                var secretLoss = nn.functional.binary_cross_entropy_with_logits(logits, secrets);
                var loss = ramp == 0 ? options.SecretWeight * secretLoss
                    : options.SecretWeight * secretLoss + options.ResidualWeight * ramp * residual.pow(2).mean();
                optimizer.zero_grad();
                loss.backward();
                value = loss.item<float>();
                if (!float.IsFinite(value)) throw new InvalidOperationException($"The ISSBA loss became {value} at step {step}.");
                accuracy = logits.detach().gt(0).to_type(ScalarType.Float32).eq(secrets).to_type(ScalarType.Float32).mean().item<float>();
                }
                // Outside the step's dispose scope: Adam creates its moment tensors on the first step, and they must outlive it.
                optimizer.step();
                progress?.Report(new IssbaTrainingProgress(step, options.Steps, value, accuracy));
            }
        }
        finally
        {
            model.Encoder.eval();
            model.Decoder.eval();
        }
        var elapsed = clock.Elapsed;
        var (psnr, accuracyRandom, accuracyTrigger, meanAbs) = Measure(model, validation, options, generator, cancellationToken);
        return new IssbaTrainingReport(options.Steps, psnr, accuracyRandom, accuracyTrigger, meanAbs, elapsed);
    }

    /// <summary>PSNR, bit accuracy (random secrets and the trigger's secret) and mean absolute residual after an 8-bit round trip.</summary>
    internal static (double Psnr, double BitAccuracy, double TriggerBitAccuracy, double MeanAbsResidual) Measure(IssbaModel model, ILabeledImageSource images,
        IssbaTrainingOptions options, Generator generator, CancellationToken cancellationToken)
    {
        var count = Math.Min(options.EvaluationImages, images.Count);
        var trigger = new IssbaTrigger(model);
        double psnr = 0, correct = 0, triggerCorrect = 0, abs = 0;
        for (int start = 0; start < count; start += options.BatchSize)
        {
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(start, Math.Min(options.BatchSize, count - start)).ToArray();
            var clean = Load(images, indices, model, cancellationToken);
            var secrets = rand(new long[] { indices.Length, model.Options.SecretBits }, ScalarType.Float32, CPU, generator: generator).lt(0.5).to_type(ScalarType.Float32).to(model.Device);
            var encoded = TriggeredImage.ToUint8RoundTrip(model.Encode(clean, secrets));
            var original = TriggeredImage.ToUint8RoundTrip(clean);
            var mse = encoded.sub(original).pow(2).mean(new long[] { 1, 2, 3 }).clamp_min(1e-10);
            psnr += mse.log10().mul(-10).sum().item<float>();
            abs += encoded.sub(original).abs().mean(new long[] { 1, 2, 3 }).sum().item<float>();
            correct += model.Decode(encoded).eq(secrets).to_type(ScalarType.Float32).mean(new long[] { 1 }).sum().item<float>();
            var triggered = TriggeredImage.ToUint8RoundTrip(trigger.Apply(clean));
            var secret = tensor(trigger.Secret.Select(b => (float)b).ToArray()).to(model.Device).view(1, -1);
            triggerCorrect += model.Decode(triggered).eq(secret).to_type(ScalarType.Float32).mean(new long[] { 1 }).sum().item<float>();
        }
        return (psnr / count, correct / count, triggerCorrect / count, abs / count);
    }

    private static Tensor Load(ILabeledImageSource source, int[] indices, IssbaModel model, CancellationToken cancellationToken)
    {
        var size = model.Options.ImageSize;
        return Pixels01Batch.Load(source.LoadPixels01, indices, raw => TriggeredImage.ResizeToSquare(raw, size), cancellationToken)
            .to(ScalarType.Float32, model.Device);
    }
}
