namespace Kiteflow.Delivery.Pacing;

/// <summary>What a request that a budget did not let through waits for.</summary>
/// <param name="Scope">The limit that held it.</param>
/// <param name="Until">The reset it waits for; null when only an answer in flight can free a place.</param>
/// <param name="Changed">Completes when the budget's count changes (an answer came, a place was given back).</param>
internal readonly record struct RateLimitHold(RateLimitScope Scope, DateTimeOffset? Until, Task Changed);
