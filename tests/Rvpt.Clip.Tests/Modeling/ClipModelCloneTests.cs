using Rvpt.Clip;
using Xunit;
using static TorchSharp.torch;

namespace Rvpt.Clip.Tests;

public class ClipModelCloneTests
{
    [Fact]
    public void Clone_is_bit_identical_independent_frozen_and_in_eval_mode()
    {
        using var model = ClipModel.Create(TinyConfigs.Clip, seed: 4);
        model.SetTrainable(true);
        model.train();
        using var copy = model.Clone();
        var original = model.state_dict();
        foreach (var (key, value) in copy.state_dict())
        {
            Assert.True(value.equal(original[key]).all().item<bool>(), key);
        }
        Assert.All(copy.parameters(), p => Assert.False(p.requires_grad));
        Assert.False(copy.training);
        // TorchSharp's Device has reference equality (no Equals override) and Tensor.device makes a new one per call.
        Assert.Equal(model.Device.ToString(), copy.Device.ToString());
        Assert.Equal(model.DType, copy.DType);
        using (no_grad()) copy.LogitScale.add_(1);
        Assert.NotEqual(copy.LogitScale.item<float>(), model.LogitScale.item<float>());
    }
}
