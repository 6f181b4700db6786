namespace Rvpt.Demo;

/// <summary>Reports synchronously on the caller's thread, to forward the library's progress into a progress bar.</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
