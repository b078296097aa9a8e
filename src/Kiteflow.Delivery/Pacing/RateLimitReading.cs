namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// What one response said about one limit: <c>RateLimit-Limit</c>, <c>-Remaining</c> and <c>-Reset</c> (or
/// their <c>RateLimit-User-*</c> twins). Reset is whole seconds from now, rounded up. A reading without
/// remaining and reset says nothing (<see cref="IsKnown"/> is false).
/// </summary>
internal readonly record struct RateLimitReading(int? Limit, int? Remaining, int? ResetSeconds)
{
    /// <summary>Whether the response stated the calls left and the reset.</summary>
    public bool IsKnown => Remaining is not null && ResetSeconds is not null;
}
