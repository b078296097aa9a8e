namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// Where the budgets live: one per organization and one per token user, shared by everything that calls with them
/// (<see cref="RateLimitBudgets"/> in one process; the server's budget grains across a cluster).
/// </summary>
internal interface IRateLimitBudgetSource
{
    /// <summary>The budget of the organization <paramref name="slug"/> (empty for requests that name none).</summary>
    IRateLimitBudget Organization(string slug);

    /// <summary>The budget of the token user <paramref name="key"/>.</summary>
    IRateLimitBudget User(string key);
}
