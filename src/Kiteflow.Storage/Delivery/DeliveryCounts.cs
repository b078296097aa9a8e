namespace Kiteflow.Storage;

/// <summary>What a delivery did: records by outcome and calls by kind.</summary>
/// <param name="Delivered">Records delivered.</param>
/// <param name="Rejected">Records rejected (before any call, or refused by Buildkite).</param>
/// <param name="PossiblyDelivered">Records whose call may have been processed, not resent.</param>
/// <param name="Requests">API calls (attempts and lookups).</param>
/// <param name="Retries">Attempts after the first.</param>
/// <param name="RateLimitWaits">Waits for a rate limit (including 429 answers).</param>
/// <param name="LastError">The last failure seen, in one line; null for none.</param>
public sealed record DeliveryCounts(long Delivered, long Rejected, long PossiblyDelivered, long Requests, long Retries, long RateLimitWaits, string? LastError = null)
{
    /// <summary>Nothing.</summary>
    public static DeliveryCounts Zero { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>Records settled: delivered, rejected or possibly delivered.</summary>
    public long Settled => Delivered + Rejected + PossiblyDelivered;
}
