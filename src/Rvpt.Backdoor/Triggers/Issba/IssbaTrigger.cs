using System.Text;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// ISSBA's trigger (Li et al., ICCV 2021): each image is replaced by its StegaStamp encoding with one fixed secret, so
/// the trigger is an invisible residual that differs from image to image (sample-specific). Images of another size
/// than the model's are resized to it, the residual is computed there and resized back (bilinear) before it is
/// added. Disposing it disposes the model only when it owns it. Deterministic: the seed is unused.
/// </summary>
public sealed class IssbaTrigger : ITrigger, IDisposable
{
    private readonly float[] _secret;
    private readonly bool _ownsModel;

    /// <summary>
    /// Uses <paramref name="model"/> with <paramref name="secret"/> (0/1 values, one per secret bit); default
    /// <see cref="SecretFromText"/> of "Stega!!". With <paramref name="ownsModel"/> the trigger disposes the model.
    /// </summary>
    /// <exception cref="ArgumentException">The secret has the wrong length or a value other than 0 and 1.</exception>
    public IssbaTrigger(IssbaModel model, IReadOnlyList<int>? secret = null, bool ownsModel = false)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        _ownsModel = ownsModel;
        var bits = secret ?? SecretFromText("Stega!!", model.Options.SecretBits);
        if (bits.Count != model.Options.SecretBits || bits.Any(b => b is not (0 or 1)))
            throw new ArgumentException($"The secret must hold {model.Options.SecretBits} values of 0 or 1; got {bits.Count} values.", nameof(secret));
        _secret = bits.Select(b => (float)b).ToArray();
    }

    /// <summary>The steganography model.</summary>
    public IssbaModel Model { get; }

    /// <summary>The fixed secret, one 0/1 value per bit.</summary>
    public IReadOnlyList<int> Secret => _secret.Select(b => (int)b).ToArray();

    /// <inheritdoc />
    public string Name => "ISSBA";

    /// <inheritdoc />
    public string? TextKey => null;

    /// <summary>
    /// The bits of <paramref name="text"/>'s UTF-8 bytes, most significant bit first, cut or zero-padded to
    /// <paramref name="bits"/>. ISSBA's code encodes "Stega!!" (56 bits) plus BCH parity into StegaStamp's 100 bits;
    /// Rvpt uses no error-correcting code (the decoder here only trains the encoder).
    /// </summary>
    public static IReadOnlyList<int> SecretFromText(string text, int bits)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        var all = Encoding.UTF8.GetBytes(text).SelectMany(b => Enumerable.Range(0, 8).Select(i => (b >> (7 - i)) & 1));
        return all.Concat(Enumerable.Repeat(0, bits)).Take(bits).ToArray();
    }

    /// <summary>Disposes the model when the trigger owns it.</summary>
    public void Dispose()
    {
        if (_ownsModel) Model.Dispose();
    }

    /// <inheritdoc />
    public Tensor Apply(Tensor images, long seed = 0)
    {
        TriggerInput.Validate(images, nameof(images));
        using var scope = NewDisposeScope();
        var (n, h, w) = (images.shape[0], images.shape[2], images.shape[3]);
        if (n == 0) return images.detach().clone().MoveToOuterDisposeScope();
        var size = Model.Options.ImageSize;
        var secret = tensor(_secret).view(1, -1);
        var x = images.detach().to(ScalarType.Float32, Model.Device);
        Tensor result;
        if (h == size && w == size)
            result = Model.Encode(x, secret);
        else
        {
            var small = nn.functional.interpolate(x, new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: false, antialias: true).clamp(0, 1);
            var residual = Model.Encode(small, secret).sub(small);
            var back = nn.functional.interpolate(residual, new long[] { h, w }, mode: InterpolationMode.Bilinear, align_corners: false);
            result = x.add(back).clamp(0, 1);
        }
        return result.to(images.dtype, images.device).MoveToOuterDisposeScope();
    }
}
