
namespace Kiteflow.Server.Observability;

/// <summary>The server's log messages (source-generated, stable event ids). None takes a token, key or password.</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "Store {Store} at schema version {Version}")]
    public static partial void StoreReady(ILogger logger, string store, int version);

    [LoggerMessage(1001, LogLevel.Information, "Created the first user '{User}'")]
    public static partial void AdminCreated(ILogger logger, string user);

    [LoggerMessage(1002, LogLevel.Information, "Embedded sandbox listening on {BaseAddress}; credential '{Credential}' points at it")]
    public static partial void SandboxStarted(ILogger logger, Uri baseAddress, string credential);

    [LoggerMessage(1003, LogLevel.Warning, "The embedded sandbox's credential could not be kept: {Reason}")]
    public static partial void SandboxCredentialSkipped(ILogger logger, string reason);

    [LoggerMessage(1004, LogLevel.Information, "Seeded the example: the dataset '{Dataset}' ({Records} records) and the draft destinations '{First}' and '{Second}' on the sandbox credential; activate '{First}', then '{Second}'")]
    public static partial void ExampleSeeded(ILogger logger, string dataset, long records, string first, string second);

    [LoggerMessage(1005, LogLevel.Warning, "The example was not added: {Reason}")]
    public static partial void ExampleSkipped(ILogger logger, string reason);

    [LoggerMessage(1100, LogLevel.Information, "User '{User}' logged in from {Address}")]
    public static partial void LoginSucceeded(ILogger logger, string user, string address);

    [LoggerMessage(1101, LogLevel.Warning, "Failed login for '{User}' from {Address}")]
    public static partial void LoginFailed(ILogger logger, string user, string address);

    [LoggerMessage(1102, LogLevel.Warning, "Login for '{User}' from {Address} throttled after repeated failures")]
    public static partial void LoginThrottled(ILogger logger, string user, string address);

    [LoggerMessage(1103, LogLevel.Information, "API key {Prefix}… created for '{User}'")]
    public static partial void ApiKeyCreated(ILogger logger, string prefix, string user);

    [LoggerMessage(1104, LogLevel.Information, "API key {Prefix}… revoked")]
    public static partial void ApiKeyRevoked(ILogger logger, string prefix);

    [LoggerMessage(1200, LogLevel.Information, "Dataset '{Dataset}' created")]
    public static partial void DatasetCreated(ILogger logger, string dataset);

    [LoggerMessage(1201, LogLevel.Information, "Dataset '{Dataset}' deleted")]
    public static partial void DatasetDeleted(ILogger logger, string dataset);

    [LoggerMessage(1202, LogLevel.Information, "Upload to '{Dataset}': {Appended} records appended from offset {FirstOffset}, {Rejected} rejected")]
    public static partial void Uploaded(ILogger logger, string dataset, long appended, long firstOffset, long rejected);

    [LoggerMessage(1203, LogLevel.Debug, "Ingest to '{Dataset}': {Appended} records appended from offset {FirstOffset}, {Rejected} rejected, replayed {Replayed}")]
    public static partial void Ingested(ILogger logger, string dataset, int appended, long firstOffset, int rejected, bool replayed);

    [LoggerMessage(1204, LogLevel.Warning, "Ingest to '{Dataset}' refused: {Reason}")]
    public static partial void IngestRefused(ILogger logger, string dataset, string reason);

    [LoggerMessage(1300, LogLevel.Information, "Credential '{Credential}' stored for {ApiBase}")]
    public static partial void CredentialCreated(ILogger logger, string credential, string apiBase);

    [LoggerMessage(1301, LogLevel.Information, "Credential '{Credential}' checked: {Status}")]
    public static partial void CredentialChecked(ILogger logger, string credential, string status);

    [LoggerMessage(1302, LogLevel.Information, "Credential '{Credential}' deleted")]
    public static partial void CredentialDeleted(ILogger logger, string credential);

    [LoggerMessage(1400, LogLevel.Information, "Destination '{Destination}' {Change} (version {Version})")]
    public static partial void DestinationChanged(ILogger logger, string destination, string change, long version);

    [LoggerMessage(1401, LogLevel.Information, "Destination '{Destination}' delivering ({Reason})")]
    public static partial void DestinationDelivering(ILogger logger, string destination, string reason);

    [LoggerMessage(1402, LogLevel.Warning, "Destination {DestinationId} held up, trying again shortly: {Reason}")]
    public static partial void DestinationHeldUp(ILogger logger, long destinationId, string reason);

    [LoggerMessage(1403, LogLevel.Debug, "Destination '{Destination}': {Records} records planned, {Delivered} delivered, {Rejected} rejected, {PossiblyDelivered} possibly delivered in {Milliseconds:F0} ms")]
    public static partial void StretchDelivered(ILogger logger, string destination, int records, long delivered, long rejected, long possiblyDelivered, double milliseconds);

    [LoggerMessage(1404, LogLevel.Warning, "{Count} response records of '{Dataset}' could not be appended (the calls are settled in the ledger): {Reason}")]
    public static partial void ResponsesNotAppended(ILogger logger, string dataset, int count, string reason);

    [LoggerMessage(1405, LogLevel.Information, "Destination '{Destination}' {Change} by {Actor}")]
    public static partial void DestinationStateChanged(ILogger logger, string destination, string change, string actor);

    [LoggerMessage(1406, LogLevel.Warning, "Silo {Silo} left the cluster ({Status}); starting the active destinations again wherever they are placed")]
    public static partial void SiloLeft(ILogger logger, string silo, string status);

    [LoggerMessage(1407, LogLevel.Warning, "The active destinations could not be started again after a silo left: {Reason}")]
    public static partial void RestartAfterSiloLeftFailed(ILogger logger, string reason);

    [LoggerMessage(1408, LogLevel.Warning, "Destination {DestinationId} stopped on this silo: {Reason}")]
    public static partial void DestinationFenced(ILogger logger, long destinationId, string reason);

    [LoggerMessage(1409, LogLevel.Information, "Destination {DestinationId} waits {Milliseconds:F0} ms for the lease of its previous owner to run out")]
    public static partial void WaitingForLease(ILogger logger, long destinationId, double milliseconds);

    [LoggerMessage(1410, LogLevel.Information, "Destination {DestinationId} moves from silo {From} to silo {To} ({Mine} of {Active} active destinations were on {From}, over {Silos} silos)")]
    public static partial void DestinationMoving(ILogger logger, long destinationId, string from, string to, int mine, int active, int silos);

    [LoggerMessage(1411, LogLevel.Warning, "Spreading the destinations over the silos: {Reason}; tried again later")]
    public static partial void BalanceFailed(ILogger logger, string reason);

    [LoggerMessage(1900, LogLevel.Error, "Unhandled error on {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);
}
