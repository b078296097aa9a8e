namespace Kiteflow.Server.Delivery;

/// <summary>What a response said about one limit (see Kiteflow.Delivery's RateLimitReading), as it crosses to a budget grain.</summary>
[GenerateSerializer]
[Immutable]
public sealed record BudgetReading
{
    /// <summary><c>RateLimit-Limit</c> (or the user's).</summary>
    [Id(0)]
    public int? Limit { get; init; }

    /// <summary><c>RateLimit-Remaining</c>.</summary>
    [Id(1)]
    public int? Remaining { get; init; }

    /// <summary><c>RateLimit-Reset</c>, whole seconds from the answer.</summary>
    [Id(2)]
    public int? ResetSeconds { get; init; }

    /// <summary>Set when a 429 named this limit: the seconds until it resets.</summary>
    [Id(3)]
    public int? RefusedSeconds { get; init; }
}
