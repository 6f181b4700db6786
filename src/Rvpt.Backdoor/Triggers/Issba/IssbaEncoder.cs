using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// StegaStamp's encoder (Tancik et al., CVPR 2020; tancik/StegaStamp <c>models.py</c> <c>StegaStampEncoder</c>, as ISSBA
/// uses it): the secret (minus 0.5) through a dense layer to a 3-channel map at S/8, upsampled 8 times (nearest) and
/// concatenated with the image (minus 0.5); a U-Net of 'same' convolutions (c, c/2, 2c/4, 4c/8, 8c/16 with stride 2,
/// then nearest upsampling, a 2 x 2 convolution and a skip concatenation per level, the last one also with the input);
/// a 1 x 1 convolution gives the 3-channel residual. Returns the residual <c>[N, 3, S, S]</c>.
/// </summary>
internal sealed class IssbaEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear secret_dense;
    private readonly StegaConv conv1, conv2, conv3, conv4, conv5, up6, conv6, up7, conv7, up8, conv8, up9, conv9, residual;
    private readonly long _size;

    internal IssbaEncoder(IssbaModelOptions o) : base("issba_encoder")
    {
        long c = o.Width;
        _size = o.ImageSize;
        secret_dense = nn.Linear(o.SecretBits, 3 * (_size / 8) * (_size / 8));
        conv1 = new StegaConv("conv1", 6, c, 3);
        conv2 = new StegaConv("conv2", c, c, 3, 2);
        conv3 = new StegaConv("conv3", c, 2 * c, 3, 2);
        conv4 = new StegaConv("conv4", 2 * c, 4 * c, 3, 2);
        conv5 = new StegaConv("conv5", 4 * c, 8 * c, 3, 2);
        up6 = new StegaConv("up6", 8 * c, 4 * c, 2);
        conv6 = new StegaConv("conv6", 8 * c, 4 * c, 3);
        up7 = new StegaConv("up7", 4 * c, 2 * c, 2);
        conv7 = new StegaConv("conv7", 4 * c, 2 * c, 3);
        up8 = new StegaConv("up8", 2 * c, c, 2);
        conv8 = new StegaConv("conv8", 2 * c, c, 3);
        up9 = new StegaConv("up9", c, c, 2);
        conv9 = new StegaConv("conv9", 2 * c + 6, c, 3);
        residual = new StegaConv("residual", c, 3, 1, relu: false);
        RegisterComponents();
    }

    /// <summary>The residual for <paramref name="secret"/> <c>[N, B]</c> in {0, 1} and <paramref name="image"/> <c>[N, 3, S, S]</c> in [0, 1].</summary>
    public override Tensor forward(Tensor secret, Tensor image)
    {
        using var scope = NewDisposeScope();
        var s = nn.functional.relu(secret_dense.forward(secret - 0.5)).view(-1, 3, _size / 8, _size / 8);
        s = Up(s, 8);
        var inputs = cat(new[] { s, image - 0.5 }, 1);
        var c1 = conv1.forward(inputs);
        var c2 = conv2.forward(c1);
        var c3 = conv3.forward(c2);
        var c4 = conv4.forward(c3);
        var c5 = conv5.forward(c4);
        var c6 = conv6.forward(cat(new[] { c4, up6.forward(Up(c5, 2)) }, 1));
        var c7 = conv7.forward(cat(new[] { c3, up7.forward(Up(c6, 2)) }, 1));
        var c8 = conv8.forward(cat(new[] { c2, up8.forward(Up(c7, 2)) }, 1));
        var c9 = conv9.forward(cat(new[] { c1, up9.forward(Up(c8, 2)), inputs }, 1));
        return residual.forward(c9).MoveToOuterDisposeScope();
    }

    // Nearest-neighbour upsampling by an integer factor (Keras' UpSampling2D), written with expand/reshape. (An earlier
    // note blamed interpolate(mode: Nearest) for NaN gradients; the NaN came from the convolution, see StegaConv.)
    private static Tensor Up(Tensor x, long factor)
    {
        var (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        return x.view(n, c, h, 1, w, 1).expand(n, c, h, factor, w, factor).reshape(n, c, h * factor, w * factor);
    }
}
