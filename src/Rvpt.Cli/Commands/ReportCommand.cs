using System.CommandLine;

namespace Rvpt.Cli.Commands;

internal static class ReportCommand
{
    public static Command Create(GlobalOptions global) => new("report", "TODO");
}
