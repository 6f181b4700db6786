using static TorchSharp.torch;

namespace Rvpt.Backdoor.Tests;

/// <summary>Deterministic test images and masks for the trigger tests.</summary>
internal static class TriggerTestImages
{
    /// <summary>Uniform noise in [0, 1): no pixel equals a 0/1 pattern value, so every stamped pixel shows as changed.</summary>
    public static Tensor Noise(long n, long h, long w, long seed = 123, ScalarType dtype = ScalarType.Float32)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return rand(new[] { n, 3, h, w }, dtype, CPU, generator: generator);
    }

    /// <summary>A smooth image (gradients and a low-frequency wave) in [0.1, 0.9], where a sub-pixel warp moves values only slightly.</summary>
    public static Tensor Smooth(long n, long h, long w)
    {
        using var scope = NewDisposeScope();
        var ys = linspace(0, 1, h).view(1, 1, -1, 1);
        var xs = linspace(0, 1, w).view(1, 1, 1, -1);
        var channel = tensor(new float[] { 0f, 1f, 2f }).view(1, 3, 1, 1);
        var img = ys.mul(0.4).add(xs.mul(0.3)).add(xs.mul(3 * Math.PI).add(channel).sin().mul(0.1)).add(0.1);
        return img.expand(n, 3, h, w).clamp(0, 1).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Pixels where any channel differs: <c>[N, H, W]</c> bool.</summary>
    public static Tensor ChangedMask(Tensor before, Tensor after) => before.ne(after).any(1);

    /// <summary>A <c>[H, W]</c> bool mask that is true on the square at (y, x) with side <paramref name="side"/>.</summary>
    public static Tensor Square(long h, long w, long y, long x, long side)
    {
        var mask = zeros(new[] { h, w }, ScalarType.Bool);
        mask.narrow(0, y, side).narrow(1, x, side).fill_(true);
        return mask;
    }

    /// <summary>Whether two bool masks are equal everywhere.</summary>
    public static bool SameMask(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
