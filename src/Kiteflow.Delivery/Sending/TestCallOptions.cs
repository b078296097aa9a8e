namespace Kiteflow.Delivery.Sending;

/// <summary>What an endpoint test call runs on, besides the destination's own delivery settings.</summary>
public sealed class TestCallOptions
{
    /// <summary>
    /// A client to send with, shared with other calls (it must not follow redirects: the token must not be carried to
    /// another host); null for one of the call's own.
    /// </summary>
    public HttpClient? Client { get; init; }

    /// <summary>The clock. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// The token user's key in the shared budgets: calls whose tokens belong to one user share that user's limit.
    /// Default: the credential's name.
    /// </summary>
    public string? BudgetUser { get; init; }

    /// <summary>
    /// The rate-limit budgets the call spends from, shared with every delivery and test call of the process (the
    /// server's); null for budgets of the call's own.
    /// </summary>
    internal Pacing.IRateLimitBudgetSource? Budgets { get; init; }
}
