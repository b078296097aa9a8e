using Microsoft.Extensions.Logging;

namespace Kiteflow.Delivery;

/// <summary>
/// What delivery says as it goes, the same messages whether <c>kiteflow send</c> or the server delivers
/// (source-generated, stable event ids). None takes a token; URLs and messages are the redacted ones outputs show.
/// </summary>
internal static partial class DeliveryLog
{
    [LoggerMessage(2000, LogLevel.Information, "Delivering '{Destination}' (run {Run}): {Senders} senders")]
    public static partial void Started(ILogger logger, string destination, string run, int senders);

    [LoggerMessage(2001, LogLevel.Information, "Delivery of '{Destination}' {Status}: {Delivered} delivered, {Rejected} rejected, {PossiblyDelivered} possibly delivered, {Pending} pending; {Requests} requests, {Retries} retries, {RateLimitWaits} rate-limit waits in {Milliseconds} ms")]
    public static partial void Ended(ILogger logger, string destination, string status, long delivered, long rejected, long possiblyDelivered, long pending, long requests, long retries, long rateLimitWaits, long milliseconds);

    [LoggerMessage(2002, LogLevel.Warning, "'{Destination}': {Records} record(s) from position {Position} rejected by Buildkite ({Status}): {Message}")]
    public static partial void Refused(ILogger logger, string destination, int records, long position, int? status, string message);

    [LoggerMessage(2003, LogLevel.Warning, "'{Destination}': {Records} record(s) from position {Position} possibly delivered, not resent: {Message}")]
    public static partial void PossiblyDelivered(ILogger logger, string destination, int records, long position, string message);

    [LoggerMessage(2004, LogLevel.Information, "'{Destination}': the build of the batch at position {Position} was found by its delivery id after an ambiguous failure; not sent again")]
    public static partial void FoundByLookup(ILogger logger, string destination, long position);

    [LoggerMessage(2005, LogLevel.Warning, "'{Destination}': {Records} record(s) from position {Position} not sent, safe to send again: {Message}")]
    public static partial void Retryable(ILogger logger, string destination, int records, long position, string message);
}
