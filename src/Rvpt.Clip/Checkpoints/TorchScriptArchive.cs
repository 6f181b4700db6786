using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>
/// TorchScript (JIT) archives such as OpenAI's published CLIP downloads (<c>ViT-B-32.pt</c>): a zip like
/// <c>torch.save</c>'s, plus the model's TorchScript code (<c>code/</c>) and <c>constants.pkl</c>. OpenAI's
/// <c>clip.load(..., jit=False)</c> reads one with <c>torch.jit.load</c> and builds the model from its
/// <c>state_dict()</c> (openai/CLIP <c>clip/clip.py</c>, <c>load</c>); this does the same with libtorch's own loader.
/// </summary>
/// <remarks>
/// Loading compiles the archive's code, and a scripted <c>__setstate__</c> may run while loading: the archive is a
/// program, not just data, so callers read it only on an explicit opt-in.
/// </remarks>
internal static class TorchScriptArchive
{
    /// <summary>Whether the zip file at <paramref name="path"/> is a TorchScript archive rather than a <c>torch.save</c> state dict.</summary>
    public static bool Is(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        return zip.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.FullName.Contains("/code/", StringComparison.Ordinal));
    }

    /// <summary>
    /// Loads the archive on the CPU and returns its parameters and buffers under their module paths (OpenAI's state-dict
    /// keys, including the int64 <c>input_resolution</c>, <c>context_length</c> and <c>vocab_size</c> of OpenAI's files).
    /// The caller owns the tensors; the script module is released.
    /// </summary>
    /// <exception cref="InvalidDataException">libtorch cannot load the archive.</exception>
    public static Dictionary<string, Tensor> ReadWeights(string path)
    {
        jit.ScriptModule module;
        try
        {
            module = jit.load(path, DeviceType.CPU);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: libtorch cannot load this TorchScript archive: {e.Message}", e);
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, p) in module.named_parameters()) result[name] = p.detach();
            foreach (var (name, b) in module.named_buffers()) result.TryAdd(name, b.detach());
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        finally
        {
            module.Dispose();
        }
        return result;
    }
}
