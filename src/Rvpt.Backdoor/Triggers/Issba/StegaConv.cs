using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>
/// A 2-d convolution with 'same' output size, optionally followed by ReLU: the layer StegaStamp's Keras models are
/// built from (tancik/StegaStamp <c>models.py</c>; BackdoorBox's PyTorch port calls it <c>Conv2dSame</c>). Odd kernels
/// pad symmetrically (k / 2; TensorFlow puts a stride-2 layer's one padding pixel after instead); the 2 x 2 kernels pad
/// one pixel after, as TensorFlow does, by padding both sides and dropping the first output row and column.
/// </summary>
/// <remarks>
/// The input is given channels-last strides before libtorch's convolution. With the default (NCHW) strides, libtorch
/// 2.10's oneDNN 3.7.1 runs the input-gradient pass (<c>jit:avx512_core</c> backward_data) on channel-blocked copies
/// padded to 16 channels, and when the output channels are not a multiple of 16 the padded part of the incoming
/// gradient is not always zeroed: the input gradient came out NaN in a varying share of identical backward passes
/// (measured: output channels 8, 278 of 400 passes; 16, none; see <c>IssbaTests.StegaConv_InputGradient_IsFinite</c>).
/// Channels-last strides make oneDNN use unblocked (acdb) buffers, which have no padding.
/// </remarks>
internal sealed class StegaConv : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly bool _evenKernel;
    private readonly bool _relu;

    internal StegaConv(string name, long inChannels, long outChannels, long kernel, long stride = 1, bool relu = true) : base(name)
    {
        if (kernel % 2 == 0 && (kernel != 2 || stride != 1))
            throw new ArgumentException($"Only odd kernels and 2 x 2 kernels of stride 1 are supported; got {kernel} x {kernel}, stride {stride}.", nameof(kernel));
        _evenKernel = kernel == 2;
        conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: _evenKernel ? 1 : kernel / 2);
        _relu = relu;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv.forward(ChannelsLast(input));
        if (_evenKernel) x = x.narrow(2, 1, input.shape[2]).narrow(3, 1, input.shape[3]);
        return (_relu ? nn.functional.relu(x) : x).MoveToOuterDisposeScope();
    }

    /// <summary>The same values with channels-last (NHWC) strides, still indexed [N, C, H, W].</summary>
    internal static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
