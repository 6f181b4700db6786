using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>A SHA-256 over every weight's name, dtype, shape and bytes (keys in ordinal order): identifies a model's weights.</summary>
public static class ClipWeightsFingerprint
{
    /// <summary>Computes the lower-case hex fingerprint of <paramref name="model"/>'s weights.</summary>
    public static string Compute(ClipModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in model.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            using var scope = NewDisposeScope();
            sha.AppendData(Encoding.UTF8.GetBytes($"{name}|{tensor.dtype}|{string.Join(",", tensor.shape)}|"));
            var cpu = tensor.detach().cpu().contiguous();
            if (cpu.numel() > 0) sha.AppendData(cpu.bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
