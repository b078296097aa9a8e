namespace Kiteflow.Delivery.Pacing;

/// <summary>A budget's answer to a request that asks to go: let through, or held (and what it waits for).</summary>
/// <param name="Entered">Whether the request took a place in flight.</param>
/// <param name="EnteredAt">
/// When it did: the time the budget entered it at, never before the start of the window that let it through (a caller
/// may ask with a time read before another request began that window). Hand it back to the budget's release or
/// completion: it tells the budget which window the request spent from.
/// </param>
/// <param name="Hold">When it did not: what it waits for.</param>
internal readonly record struct RateLimitEntry(bool Entered, DateTimeOffset EnteredAt, RateLimitHold Hold)
{
    /// <summary>Let through, entered at <paramref name="enteredAt"/>.</summary>
    public static RateLimitEntry At(DateTimeOffset enteredAt) => new(true, enteredAt, default);

    /// <summary>Held by <paramref name="hold"/>.</summary>
    public static RateLimitEntry Held(RateLimitHold hold) => new(false, default, hold);
}
