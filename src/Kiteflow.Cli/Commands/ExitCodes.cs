namespace Kiteflow.Cli.Commands;

/// <summary>The process exit codes every kiteflow command uses (documented in docs/cli.md).</summary>
internal static class ExitCodes
{
    /// <summary>Everything worked; for send, every record was delivered.</summary>
    public const int Success = 0;

    /// <summary>The run stopped because of an error (input unreadable, server unreachable, token refused).</summary>
    public const int Error = 1;

    /// <summary>Invalid settings or arguments: nothing was sent.</summary>
    public const int InvalidSettings = 2;

    /// <summary>Some records were rejected or possibly delivered; the others were delivered.</summary>
    public const int SomeRecordsNotDelivered = 3;
}
