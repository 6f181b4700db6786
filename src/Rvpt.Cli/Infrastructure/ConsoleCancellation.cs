using System.Runtime.InteropServices;

namespace Rvpt.Cli;

/// <summary>
/// Turns Ctrl+C and SIGTERM into a cancellation token for a process's work (the <c>rvpt</c> tool and the demo sample):
/// the first asks the work to stop after its current step and save; a second ends the process at once.
/// </summary>
internal static class ConsoleCancellation
{
    public static async Task<int> RunAsync(Func<CancellationToken, Task<int>> work)
    {
        using var cancellation = new CancellationTokenSource();
        var cancelled = 0;
        void Cancel()
        {
            if (Interlocked.Exchange(ref cancelled, 1) == 1) Environment.Exit(ExitCodes.Cancelled);
            Console.Error.WriteLine("Cancelling: finishing the current step and saving (Ctrl+C again to stop at once) ...");
            cancellation.Cancel();
        }
        ConsoleCancelEventHandler onCancelKey = (_, e) =>
        {
            e.Cancel = true;
            Cancel();
        };
        Console.CancelKeyPress += onCancelKey;
        try
        {
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                Cancel();
            });
            return await work(cancellation.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancelKey;
        }
    }
}
