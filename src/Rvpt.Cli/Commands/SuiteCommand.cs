using System.CommandLine;

namespace Rvpt.Cli.Commands;

internal static class SuiteCommand
{
    public static Command Create(GlobalOptions global) => new("suite", "TODO");
}
