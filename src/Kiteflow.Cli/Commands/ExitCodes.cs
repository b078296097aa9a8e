namespace Kiteflow.Cli.Commands;

/// <summary>The process exit codes every kiteflow command uses (documented in docs/cli.md).</summary>
internal static class ExitCodes
{
    /// <summary>Everything worked; for send, every record was delivered.</summary>
    public const int Success = 0;

    /// <summary>
    /// Stopped by something outside the command line: a named file cannot be read or written, the credential store or
    /// master key fails, the server refuses the token or cannot be reached, or an unexpected failure.
    /// </summary>
    public const int Error = 1;

    /// <summary>The command line or the destination's settings are wrong (unknown option, malformed value, a name that is not one): nothing was done.</summary>
    public const int InvalidSettings = 2;

    /// <summary>Some records were rejected or possibly delivered; the others were delivered.</summary>
    public const int SomeRecordsNotDelivered = 3;
}
