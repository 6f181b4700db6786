// rvpt: the command-line tool. See docs/cli.md.
using Rvpt.Cli;

return await ConsoleCancellation.RunAsync(cancellationToken => RvptCli.RunAsync(args, Console.Out, Console.Error, cancellationToken));
