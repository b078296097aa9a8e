namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// One of Buildkite's rate limits for one key, as a pacer spends from it: in this process
/// (<see cref="RateLimitBudget"/>), or held elsewhere and reached by messages (the server's budget grains, which
/// every destination of a silo cluster shares). Asynchronous for that reason; the local budget answers at once.
/// </summary>
internal interface IRateLimitBudget
{
    /// <summary>Which limit this is.</summary>
    RateLimitScope Scope { get; }

    /// <summary>The organization's slug or the user's key.</summary>
    string Key { get; }

    /// <summary>Takes a permit of the local budget if the server has not spoken yet; false when the request must wait for one.</summary>
    ValueTask<bool> TryTakeLocalAsync(CancellationToken cancellationToken);

    /// <summary>Waits for a permit of the local budget, or until the server speaks, whichever is first.</summary>
    Task WaitForLocalAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes a place in flight when the server's word allows one more request at <paramref name="now"/>; otherwise says
    /// what to wait for. An entry says the time it was entered at (<see cref="RateLimitEntry.EnteredAt"/>), which
    /// may be later than <paramref name="now"/>: give that time back to <see cref="ReleaseAsync"/> or <see cref="CompleteAsync"/>.
    /// </summary>
    ValueTask<RateLimitEntry> TryEnterAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Gives back the place entered at <paramref name="enteredAt"/> for a request that was not sent.</summary>
    ValueTask ReleaseAsync(DateTimeOffset enteredAt);

    /// <summary>Ends a request's place in flight with what its response said about this limit.</summary>
    /// <param name="sentAt">When the request was let through: the time its entry was entered at.</param>
    /// <param name="reading">The response's reading; unknown when it carried none.</param>
    /// <param name="refusedSeconds">Set when a 429 named this limit: the seconds until it resets.</param>
    ValueTask CompleteAsync(DateTimeOffset sentAt, RateLimitReading reading, int? refusedSeconds);
}
