using Rvpt.Clip;
using static TorchSharp.torch;

namespace Rvpt.Backdoor;

/// <summary>Reads trigger images (a BadNets patch, a Blended image) as <c>[3, H, W]</c> float32 CPU tensors in [0, 1].</summary>
internal static class TriggerImageFile
{
    internal static Tensor Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Trigger image '{path}' does not exist.", path);
        var processor = new ClipImageProcessor();
        using var image = processor.Decode(path);
        using var scope = NewDisposeScope();
        return processor.ToPixels01(image).to(ScalarType.Float32, CPU).contiguous().DetachFromDisposeScope();
    }
}
