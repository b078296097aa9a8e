namespace Kiteflow.Server.Observability;

/// <summary>The endpoint test's log messages (kept apart from the rest of <see cref="Log"/>; no token, no body).</summary>
internal static partial class Log
{
    [LoggerMessage(1470, LogLevel.Information, "Test call for '{Destination}' with credential '{Credential}': {Method} {Url} → {Outcome} {Status} in {DurationMs} ms")]
    public static partial void TestCallSent(ILogger logger, string destination, string credential, string method, string url, string outcome, int? status, long durationMs);

    [LoggerMessage(1471, LogLevel.Information, "Test call for '{Destination}' with credential '{Credential}' refused: not confirmed (the credential is not the sandbox)")]
    public static partial void TestCallNotConfirmed(ILogger logger, string destination, string credential);
}
