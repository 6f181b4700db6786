// rvpt: the command-line tool. See docs/cli.md.
using System.Runtime.InteropServices;
using Rvpt.Cli;

using var cancellation = new CancellationTokenSource();
var cancelled = 0;
void Cancel()
{
    // The first Ctrl+C asks the work to stop after its current step and save; a second one ends the process.
    if (Interlocked.Exchange(ref cancelled, 1) == 1) Environment.Exit(ExitCodes.Cancelled);
    Console.Error.WriteLine("Cancelling: finishing the current step and saving (Ctrl+C again to stop at once) ...");
    cancellation.Cancel();
}
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    Cancel();
});
return await RvptCli.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
