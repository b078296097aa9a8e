namespace Kiteflow.Server.Delivery;

/// <summary>
/// Who a token belongs to, remembered once for the whole cluster (issue 11): an activation's token check on the api
/// silo says it, and a worker that starts the destination — after a move to a silo that just joined, or a failover —
/// reads it here instead of asking Buildkite again. That question is not paced and counts against the user's limit,
/// which the destinations spend to the last request of each window: a silo that asked answered 429 waited up to a
/// window (a minute) before its moved destination delivered. Keyed by the API host and a SHA-256 of the token, never
/// the token. A token's user never changes; the entry lives a day after it was last told.
/// </summary>
public interface ITokenUserGrain : IGrainWithStringKey
{
    /// <summary>The user, or null when no silo has said it yet.</summary>
    Task<string?> GetAsync();

    /// <summary>Remembers the user.</summary>
    Task SetAsync(string user);
}

internal sealed class TokenUserGrain : Grain, ITokenUserGrain
{
    private string? _user;

    public Task<string?> GetAsync() => Task.FromResult(_user);

    public Task SetAsync(string user)
    {
        _user = user;
        DelayDeactivation(TimeSpan.FromDays(1));
        return Task.CompletedTask;
    }
}
