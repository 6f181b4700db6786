using System.Globalization;
using Rvpt.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// A small StegaStamp-style steganography model for ISSBA (Li et al., ICCV 2021, "Invisible Backdoor Attack with
/// Sample-Specific Triggers"): an encoder that turns an image and secret bits into an invisible, image-specific
/// residual, and a decoder that recovers the bits from the encoded image. Architecture after tancik/StegaStamp
/// <c>models.py</c> and its PyTorch port in THUYimingLi/BackdoorBox <c>core/attacks/ISSBA.py</c>; train it with
/// <see cref="IssbaTrainer"/> and poison with <see cref="IssbaTrigger"/>. Owns its weights (dispose it).
/// </summary>
public sealed class IssbaModel : IDisposable
{
    private const string Format = "rvpt-issba";

    /// <summary>
    /// Creates a model on the CPU with PyTorch's default initialisation of convolutions and dense layers (weights and
    /// biases uniform in ±1/sqrt(fan_in), as BackdoorBox's PyTorch port gets; StegaStamp's Keras layers use He-normal,
    /// which made this small model's first steps diverge), drawn from <see cref="IssbaModelOptions.Seed"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid <paramref name="options"/>.</exception>
    public IssbaModel(IssbaModelOptions? options = null)
    {
        Options = options ?? new IssbaModelOptions();
        Options.Validate();
        Encoder = new IssbaEncoder(Options);
        Decoder = new IssbaDecoder(Options);
        var generator = new Generator(unchecked((ulong)Options.Seed), CPU);
        using var noGrad = no_grad();
        foreach (var module in Encoder.modules().Concat(Decoder.modules()))
        {
            var (weight, bias) = module switch
            {
                TorchSharp.Modules.Conv2d c => (c.weight, c.bias),
                TorchSharp.Modules.Linear l => (l.weight, l.bias),
                _ => (null, null),
            };
            if (weight is null) continue;
            var bound = 1.0 / Math.Sqrt(weight.numel() / weight.shape[0]);
            foreach (var p in new[] { weight, bias })
            {
                if (p is null) continue;
                using var init = rand(p.shape, ScalarType.Float32, CPU, generator: generator).mul(2 * bound).sub(bound);
                p.copy_(init);
            }
        }
        Encoder.eval();
        Decoder.eval();
    }

    /// <summary>The geometry.</summary>
    public IssbaModelOptions Options { get; }

    /// <summary>The device the weights are on.</summary>
    public Device Device { get; private set; } = CPU;

    /// <summary>Number of weights (encoder and decoder).</summary>
    public long ParameterCount => Encoder.parameters().Concat(Decoder.parameters()).Sum(p => p.numel());

    internal IssbaEncoder Encoder { get; }

    internal IssbaDecoder Decoder { get; }

    /// <summary>Moves the weights to <paramref name="device"/>.</summary>
    public IssbaModel To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Encoder.to(device);
        Decoder.to(device);
        Device = device;
        return this;
    }

    /// <summary>
    /// <c>clamp(image + residual, 0, 1)</c> for <paramref name="images"/> <c>[N, 3, S, S]</c> in [0, 1] and
    /// <paramref name="secrets"/> <c>[N, B]</c> (or <c>[1, B]</c>, broadcast) of 0/1 values; on the model's device, no gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not match the model.</exception>
    public Tensor Encode(Tensor images, Tensor secrets)
    {
        CheckImages(images);
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.dim() != 2 || secrets.shape[1] != Options.SecretBits || (secrets.shape[0] != 1 && secrets.shape[0] != images.shape[0]))
            throw new ArgumentException($"Secrets must be [N or 1, {Options.SecretBits}]; got [{string.Join(", ", secrets.shape)}].", nameof(secrets));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = images.to(ScalarType.Float32, Device);
        var s = secrets.to(ScalarType.Float32, Device).expand(x.shape[0], Options.SecretBits);
        return x.add(Encoder.forward(s, x)).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>The decoded bits <c>[N, B]</c> (0 or 1, float32) of <paramref name="images"/> <c>[N, 3, S, S]</c>; no gradient.</summary>
    public Tensor Decode(Tensor images)
    {
        CheckImages(images);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Decoder.forward(images.to(ScalarType.Float32, Device)).gt(0).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Writes the weights and geometry as safetensors (atomically).</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in Encoder.named_parameters()) tensors["encoder." + name] = p.detach().cpu();
        foreach (var (name, p) in Decoder.named_parameters()) tensors["decoder." + name] = p.detach().cpu();
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["image_size"] = Options.ImageSize.ToString(CultureInfo.InvariantCulture),
            ["secret_bits"] = Options.SecretBits.ToString(CultureInfo.InvariantCulture),
            ["width"] = Options.Width.ToString(CultureInfo.InvariantCulture),
        };
        try
        {
            SafetensorsFile.Save(path, tensors, metadata);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Reads a model written by <see cref="Save"/> (on the CPU).</summary>
    /// <exception cref="InvalidDataException">The file is not an ISSBA model or a tensor is missing or misshapen.</exception>
    public static IssbaModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var tensors = SafetensorsFile.Load(path, null, out var metadata);
        try
        {
            if (!metadata.TryGetValue("format", out var format) || format != Format)
                throw new InvalidDataException($"'{path}' is not an ISSBA model (metadata 'format' is '{format}', expected '{Format}').");
            int Read(string key) => metadata.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
                ? n : throw new InvalidDataException($"'{path}' has no valid '{key}' metadata.");
            IssbaModel model;
            try
            {
                model = new IssbaModel(new IssbaModelOptions { ImageSize = Read("image_size"), SecretBits = Read("secret_bits"), Width = Read("width") });
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"'{path}' holds invalid ISSBA geometry: {e.Message}", e);
            }
            try
            {
                using var noGrad = no_grad();
                foreach (var (prefix, module) in new (string, nn.Module)[] { ("encoder.", model.Encoder), ("decoder.", model.Decoder) })
                foreach (var (name, p) in module.named_parameters())
                {
                    if (!tensors.TryGetValue(prefix + name, out var t))
                        throw new InvalidDataException($"'{path}' has no tensor '{prefix + name}'.");
                    if (!t.shape.SequenceEqual(p.shape))
                        throw new InvalidDataException($"'{path}': '{prefix + name}' is [{string.Join(", ", t.shape)}], expected [{string.Join(", ", p.shape)}].");
                    p.copy_(t);
                }
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Disposes the weights.</summary>
    public void Dispose()
    {
        Encoder.Dispose();
        Decoder.Dispose();
    }

    private void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var s = Options.ImageSize;
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != s || images.shape[3] != s)
            throw new ArgumentException($"Images must be [N, 3, {s}, {s}] for this model; got [{string.Join(", ", images.shape)}].", nameof(images));
    }
}
