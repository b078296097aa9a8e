namespace Kiteflow.Server.Delivery;

/// <summary>
/// One of Buildkite's rate limits for one organization or one token user, held by one grain in the whole cluster
/// (Orleans keeps one activation per key), so every destination and test send that spends it paces together.
/// Keys: <c>org|{api host}|{slug}</c> and <c>user|{api host}|{user}</c>.
/// </summary>
public interface IRateLimitBudgetGrain : IGrainWithStringKey
{
    /// <summary>Takes a permit of the local budget if the server has not spoken yet; false when the caller must wait.</summary>
    Task<bool> TryTakeLocalAsync();

    /// <summary>Waits up to <paramref name="patience"/> for a permit of the local budget (or the server's word); true when the caller may go on.</summary>
    Task<bool> WaitForLocalAsync(TimeSpan patience);

    /// <summary>Takes a place in flight when the limit allows one more request at <paramref name="now"/> (and says the time it entered it at), or says until when to wait.</summary>
    Task<BudgetAnswer> TryEnterAsync(DateTimeOffset now);

    /// <summary>Gives back a place taken for a request that was not sent (<paramref name="enteredAt"/>: the time its answer said it was entered at).</summary>
    Task ReleaseAsync(DateTimeOffset enteredAt);

    /// <summary>Ends a request's place in flight with what its response said about this limit.</summary>
    Task CompleteAsync(DateTimeOffset sentAt, BudgetReading reading);
}
