namespace Rvpt.Cli;

/// <summary>The tool's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>The work failed (a bug, a numerical failure, an I/O error while working).</summary>
    public const int Failure = 1;

    /// <summary>Bad input: the message names the input and what was expected. Nothing long was started.</summary>
    public const int BadInput = 2;

    /// <summary>Cancelled (Ctrl+C or SIGTERM); resumable work saved its state first.</summary>
    public const int Cancelled = 130;
}
