using static TorchSharp.torch;

namespace Rvpt.Testing;

/// <summary>A dictionary of tensors disposed together.</summary>
public sealed class DisposableTensors : IDisposable
{
    /// <summary>Wraps <paramref name="tensors"/>.</summary>
    public DisposableTensors(Dictionary<string, Tensor> tensors) => Tensors = tensors;

    /// <summary>The tensors.</summary>
    public Dictionary<string, Tensor> Tensors { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

/// <summary>Extension for <see cref="DisposableTensors"/>.</summary>
public static class DisposableTensorsExtensions
{
    /// <summary>Wraps a tensor dictionary so that <c>using</c> disposes it.</summary>
    public static DisposableTensors AsDisposable(this Dictionary<string, Tensor> tensors) => new(tensors);
}
