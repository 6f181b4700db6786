using System.CommandLine;

namespace Rvpt.Cli.Commands;

internal static class DefendCommand
{
    public static Command Create(GlobalOptions global) => new("defend", "TODO");
}
