using System.CommandLine;

namespace Rvpt.Cli.Commands;

internal static class SweepCommand
{
    public static Command Create(GlobalOptions global) => new("sweep", "TODO");
}
