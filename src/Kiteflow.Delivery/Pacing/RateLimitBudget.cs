using System.Threading.RateLimiting;

namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// One of Buildkite's rate limits for one key: an organization's (<c>RateLimit-*</c>) or a token user's
/// (<c>RateLimit-User-*</c>). Every request spends from two budgets, its organization's and its user's, so a
/// budget can be shared by every run that spends the same limit.
/// </summary>
/// <remarks>
/// <para>
/// The server's word is authoritative as soon as one response has stated it: the limit, the calls left in
/// the current window and when that window resets. Requests in flight count against the calls left (the
/// server may not have counted them yet), so concurrent requests slow down before the limit instead of
/// collecting 429s. A response without a reading keeps the last known state, and its request counts as
/// spent. <c>RateLimit-Reset</c> is whole seconds rounded up, so <c>now + reset</c> is never before the real
/// reset: the earliest such time seen in a window is the budget's reset. When it passes, a new window holds
/// the whole limit until a response says otherwise (until then it is guessed to last as long as the last).
/// </para>
/// <para>
/// Before the server has said anything, a local sliding window (System.Threading.RateLimiting) of
/// Buildkite's documented default governs; it plays no part once a reading has been seen.
/// </para>
/// </remarks>
internal sealed class RateLimitBudget : IDisposable
{
    // Answers from one window put its reset up to a second apart (whole seconds, rounded up) plus latency:
    // an answer to a request sent before the current window began, whose reset is within this margin of
    // that start, was counted in the window before.
    private static readonly TimeSpan StaleMargin = TimeSpan.FromMilliseconds(1500);

    private readonly TimeProvider _time;
    private readonly SlidingWindowRateLimiter _local;
    private readonly CancellationTokenSource _heard = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = NewSignal();
    private int _inFlight;
    private int? _limit;
    private int? _remaining;
    private DateTimeOffset? _resetAt;
    private bool _resetIsGuess;
    private bool _remainingIsGuess;
    private DateTimeOffset _windowStart = DateTimeOffset.MinValue;
    private TimeSpan? _windowLength;

    /// <param name="scope">Which limit this is.</param>
    /// <param name="key">The organization's slug or the user's key.</param>
    /// <param name="defaultPerMinute">The local budget before the server has spoken: Buildkite's documented default.</param>
    /// <param name="time">The clock.</param>
    public RateLimitBudget(RateLimitScope scope, string key, int defaultPerMinute, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(defaultPerMinute, 1);
        Scope = scope;
        Key = key;
        _time = time;
        _local = PerMinute(defaultPerMinute);
    }

    /// <summary>Which limit this is.</summary>
    public RateLimitScope Scope { get; }

    /// <summary>The organization's slug or the user's key.</summary>
    public string Key { get; }

    /// <summary>Whether a response has stated this limit (from then on the local budget plays no part).</summary>
    public bool HasServerWord => _heard.IsCancellationRequested;

    /// <summary>Takes a permit of the local budget if the server has not spoken yet; false when the request must wait for one.</summary>
    public bool TryTakeLocal()
    {
        if (HasServerWord)
        {
            return true;
        }

        using var lease = _local.AttemptAcquire();
        return lease.IsAcquired;
    }

    /// <summary>Waits for a permit of the local budget, or until the server speaks, whichever is first.</summary>
    public async Task WaitForLocalAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _heard.Token);
        try
        {
            using var lease = await _local.AcquireAsync(1, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The server has spoken: its word governs from now on.
        }
    }

    /// <summary>
    /// Takes a place in flight when the server's word allows one more request; otherwise says what to wait
    /// for: the reset, or an answer that changes the count.
    /// </summary>
    public bool TryEnter(out RateLimitHold hold)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            Roll(now);
            if (_remaining is not { } remaining || remaining - _inFlight > 0)
            {
                _inFlight++;
                hold = default;
                return true;
            }

            // Nothing left, or what is left is taken by requests in flight. With nothing in flight and no
            // reset known nothing would wake the wait: look again in a second.
            var until = _resetAt ?? (_inFlight == 0 ? now + TimeSpan.FromSeconds(1) : null);
            hold = new RateLimitHold(Scope, until, _changed.Task);
            return false;
        }
    }

    /// <summary>Gives back a place taken by <see cref="TryEnter"/> for a request that was not sent.</summary>
    public void Release()
    {
        lock (_lock)
        {
            _inFlight--;
        }

        Pulse();
    }

    /// <summary>
    /// Ends a request's place in flight with what its response said about this limit.
    /// </summary>
    /// <param name="sentAt">When the request was let through.</param>
    /// <param name="reading">The response's reading; unknown when it carried none (or there was no response).</param>
    /// <param name="refusedSeconds">Set when a 429 named this limit: the seconds until it resets.</param>
    public void Complete(DateTimeOffset sentAt, RateLimitReading reading, int? refusedSeconds)
    {
        var first = false;
        lock (_lock)
        {
            _inFlight--;
            var now = _time.GetUtcNow();
            Roll(now);
            if (refusedSeconds is { } seconds)
            {
                // Nothing is left until the reset the 429 names.
                first = Hear(seconds);
                var resetAt = now + TimeSpan.FromSeconds(seconds);
                if (!IsStale(sentAt, resetAt))
                {
                    _remaining = 0;
                    _remainingIsGuess = false;
                    _resetAt = resetAt;
                    _resetIsGuess = false;
                }
            }
            else if (reading is { Remaining: { } remaining, ResetSeconds: { } resetSeconds })
            {
                first = Hear(resetSeconds);
                _limit = reading.Limit ?? _limit;
                var resetAt = now + TimeSpan.FromSeconds(resetSeconds);
                if (IsStale(sentAt, resetAt))
                {
                    // Answered from a window that has since reset: it says nothing about this one.
                }
                else if (_resetAt is not { } known || sentAt + TimeSpan.FromSeconds(resetSeconds - 1) >= Guessed(known))
                {
                    // The first word, or a later window than the one known (or guessed): the server counted this
                    // request after sentAt and rounds up, so its window resets after sentAt + reset - 1 s, which
                    // is not before the known reset. Requests let through before this one may have been
                    // counted in the old window.
                    if (_resetAt is not null && !_resetIsGuess)
                    {
                        _windowStart = sentAt;
                    }

                    _remaining = remaining;
                    _remainingIsGuess = false;
                    _resetAt = resetAt;
                    _resetIsGuess = false;
                }
                else
                {
                    // The same window. Answers arrive out of order, so the smallest count is the truth (the
                    // first answer replaces the whole limit assumed when the window began). Every reset said
                    // is rounded up, so the earliest is the closest to the real one; so is the guess, while
                    // it is the earliest and the last window's length has been seen whole.
                    _remaining = _remainingIsGuess ? remaining : Math.Min(_remaining ?? remaining, remaining);
                    _remainingIsGuess = false;
                    var guessed = Guessed(known);
                    _resetIsGuess = _resetIsGuess && guessed <= resetAt;
                    _resetAt = resetAt < guessed ? resetAt : guessed;
                }
            }
            else if (_remaining is { } left && sentAt >= _windowStart)
            {
                // No word from the server: the last known state stands, and this request spent a call of it.
                _remaining = Math.Max(left - 1, 0);
            }
        }

        if (first)
        {
            // Wakes requests waiting for the local budget: the server's word governs now.
            _heard.Cancel();
        }

        Pulse();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _local.Dispose();
        _heard.Dispose();
    }

    /// <summary>When the known window has reset, starts the next: the whole limit, one window length long.</summary>
    private void Roll(DateTimeOffset now)
    {
        if (_resetAt is not { } resetAt || now < resetAt)
        {
            return;
        }

        // A fixed window: the new one holds the whole limit and lasts as long as the longest reset ever said
        // (whole seconds, so the window's length once an answer came in its first second). Answers correct
        // both; keeping the guessed end, rather than each window's first answer, keeps the phase from
        // drifting by a round trip every window.
        _remaining = _limit;
        _remainingIsGuess = true;
        if (_windowLength is { } length)
        {
            var periods = (now - resetAt).Ticks / length.Ticks;
            _windowStart = resetAt + TimeSpan.FromTicks(periods * length.Ticks);
            _resetAt = _windowStart + length;
            _resetIsGuess = true;
        }
        else
        {
            _windowStart = resetAt;
            _resetAt = null;
        }
    }

    /// <summary>The known reset, or the guessed one recomputed with the longest reset said since it was guessed.</summary>
    private DateTimeOffset Guessed(DateTimeOffset known) => _resetIsGuess && _windowLength is { } length && _windowStart + length > known ? _windowStart + length : known;

    // Sent before the current window began, with a reset that points at that window's start: an old answer.
    private bool IsStale(DateTimeOffset sentAt, DateTimeOffset resetAt) => sentAt < _windowStart && resetAt <= _windowStart + StaleMargin;

    /// <summary>Notes that the server has spoken, and the longest reset it said (the window's length, rounded up).</summary>
    private bool Hear(int resetSeconds)
    {
        var length = TimeSpan.FromSeconds(Math.Max(resetSeconds, 1));
        if (_windowLength is not { } known || length > known)
        {
            _windowLength = length;
        }

        return !_heard.IsCancellationRequested;
    }

    private void Pulse()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = NewSignal();
        }

        changed.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A local budget of <paramref name="permits"/> a minute that queues whoever waits, oldest first.</summary>
    internal static SlidingWindowRateLimiter PerMinute(int permits) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = permits,
        Window = TimeSpan.FromMinutes(1),
        SegmentsPerWindow = 12,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });
}
