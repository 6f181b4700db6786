namespace Rvpt.Backdoor;

/// <summary>
/// Reports synchronously on the caller's thread (<see cref="Progress{T}"/> would post to the thread pool, so reports
/// of a long run could arrive late or out of order). Used to forward one progress type into another.
/// </summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
