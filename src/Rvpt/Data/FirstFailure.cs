using System.Runtime.ExceptionServices;

namespace Rvpt;

/// <summary>
/// The failure with the lowest position among those recorded by parallel workers, so that the error reported for a
/// batch does not depend on which thread failed first.
/// </summary>
internal sealed class FirstFailure
{
    private readonly Lock _gate = new();
    private int _position = int.MaxValue;
    private Exception? _exception;

    /// <summary>Records a failure at <paramref name="position"/>; kept if it is the lowest so far.</summary>
    public void Record(int position, Exception exception)
    {
        lock (_gate)
        {
            if (position >= _position) return;
            _position = position;
            _exception = exception;
        }
    }

    /// <summary>Rethrows the kept failure, with its original stack trace, if there is one.</summary>
    public void ThrowIfAny()
    {
        if (_exception is not null) ExceptionDispatchInfo.Throw(_exception);
    }
}
