namespace Kiteflow.Delivery.Pacing;

/// <summary>A budget's answer to a request that asks to go: let through, or held (and what it waits for).</summary>
/// <param name="Entered">Whether the request took a place in flight.</param>
/// <param name="Hold">When it did not: what it waits for.</param>
internal readonly record struct RateLimitEntry(bool Entered, RateLimitHold Hold);
