using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// StegaStamp's decoder without its spatial transformer (tancik/StegaStamp <c>models.py</c> <c>StegaStampDecoder</c>):
/// 'same' convolutions c, c/2, 2c/2, 2c, 2c/2, 4c/2, 4c/2 (channels/stride) on the image minus 0.5, then a dense layer
/// of 16c units and one of B logits. The spatial transformer, which undoes the perspective of a photographed print, is
/// left out: ISSBA poisons digital images. Returns the secret's logits <c>[N, B]</c>.
/// </summary>
internal sealed class IssbaDecoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential convs;
    private readonly Linear hidden, output;

    internal IssbaDecoder(IssbaModelOptions o) : base("issba_decoder")
    {
        long c = o.Width;
        convs = nn.Sequential(
            ("c1", new StegaConv("c1", 3, c, 3, 2)),
            ("c2", new StegaConv("c2", c, c, 3)),
            ("c3", new StegaConv("c3", c, 2 * c, 3, 2)),
            ("c4", new StegaConv("c4", 2 * c, 2 * c, 3)),
            ("c5", new StegaConv("c5", 2 * c, 2 * c, 3, 2)),
            ("c6", new StegaConv("c6", 2 * c, 4 * c, 3, 2)),
            ("c7", new StegaConv("c7", 4 * c, 4 * c, 3, 2)));
        long side = o.ImageSize / 32;
        hidden = nn.Linear(4 * c * side * side, 16 * c);
        output = nn.Linear(16 * c, o.SecretBits);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        var x = convs.forward(image - 0.5).flatten(1);
        return output.forward(nn.functional.relu(hidden.forward(x))).MoveToOuterDisposeScope();
    }
}
