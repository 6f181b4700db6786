using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// A 2-d convolution with 'same' output size, optionally followed by ReLU: the layer StegaStamp's Keras models are
/// built from (tancik/StegaStamp <c>models.py</c>; BackdoorBox's PyTorch port calls it <c>Conv2dSame</c>). Odd kernels
/// pad symmetrically (k / 2; TensorFlow puts a stride-2 layer's one padding pixel after instead); the 2 x 2 kernels pad
/// one pixel after, as TensorFlow does, by padding both sides and dropping the first output row and column (an explicit
/// pad before the convolution was several times slower here). A stride-2 layer runs at stride 1 and keeps every second
/// row and column, which is the same function: with libtorch 2.10 on the CPU the input gradient of a stride-2,
/// padding-1 convolution came out non-finite after a few training steps.
/// </summary>
internal sealed class StegaConv : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly bool _evenKernel;
    private readonly bool _relu;
    private readonly long _stride;

    internal StegaConv(string name, long inChannels, long outChannels, long kernel, long stride = 1, bool relu = true) : base(name)
    {
        if (kernel % 2 == 0 && (kernel != 2 || stride != 1))
            throw new ArgumentException($"Only odd kernels and 2 x 2 kernels of stride 1 are supported; got {kernel} x {kernel}, stride {stride}.", nameof(kernel));
        _evenKernel = kernel == 2;
        _stride = stride;
        conv = nn.Conv2d(inChannels, outChannels, kernel, padding: _evenKernel ? 1 : kernel / 2);
        _relu = relu;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = Im2ColConv(input);
        if (_evenKernel) x = x.narrow(2, 1, input.shape[2]).narrow(3, 1, input.shape[3]);
        if (_stride > 1) x = x.slice(2, 0, x.shape[2], _stride).slice(3, 0, x.shape[3], _stride);
        return (_relu ? nn.functional.relu(x) : x).MoveToOuterDisposeScope();
    }

    // The convolution as unfold + matmul (im2col), stride 1: libtorch 2.10's CPU convolution backward gave non-finite
    // input gradients in this network after a few steps; these kernels do not.
    private Tensor Im2ColConv(Tensor input)
    {
        var (n, h, w) = (input.shape[0], input.shape[2], input.shape[3]);
        var k = conv.weight!.shape[2];
        var pad = conv.padding![0];
        var cols = nn.functional.unfold(input, k, padding: pad);                 // [N, C k k, L]
        var outH = h + 2 * pad - k + 1;
        var outW = w + 2 * pad - k + 1;
        var weight = conv.weight.view(conv.weight.shape[0], -1);               // [O, C k k]
        var y = weight.matmul(cols).add(conv.bias!.view(1, -1, 1));            // [N, O, L]
        return y.view(n, -1, outH, outW);
    }
}
