using static TorchSharp.torch;

namespace Rvpt.Clip;

/// <summary>One tensor's header entry in a safetensors file.</summary>
/// <param name="Name">Tensor name (state-dict key).</param>
/// <param name="DType">The file's dtype code (F32, F16, BF16, I64, ...).</param>
/// <param name="ScalarType">The corresponding TorchSharp element type.</param>
/// <param name="Shape">Tensor shape.</param>
/// <param name="Begin">Start of the data, relative to the end of the header.</param>
/// <param name="End">End of the data (exclusive), relative to the end of the header.</param>
internal sealed record SafetensorsEntry(string Name, string DType, ScalarType ScalarType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of bytes of data.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Shape formatted as <c>[a, b]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
