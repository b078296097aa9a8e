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
/// spent: in the current window, and in the next as well when it was answered after the earliest the window
/// can reset (the server may have counted it there). <c>RateLimit-Reset</c> is whole seconds rounded up, so
/// <c>now + reset</c> is never before the real reset: the earliest such time seen in a window is the budget's
/// reset. When it passes, a new window holds the whole limit until a response says otherwise (until then it is
/// guessed to last as long as the longest reset said). A guessed end that no answer in the window confirmed
/// starts nothing: the count goes on, and once it is spent one request at a time finds out whether the window
/// has reset. Where a second is a large share of the window, one request probes whether a spent window has
/// reset before the latest time it can (<see cref="ProbeAt"/>), unless a request has already been refused in it.
/// </para>
/// <para>
/// Before the server has said anything, a local sliding window (System.Threading.RateLimiting) of
/// Buildkite's documented default governs; it plays no part once a reading has been seen.
/// </para>
/// </remarks>
internal sealed class RateLimitBudget : IRateLimitBudget, IDisposable
{
    // Answers from one window put its reset up to a second apart (whole seconds, rounded up) plus latency:
    // an answer to a request sent before the current window began, whose reset is within this margin of
    // that start, was counted in the window before.
    private static readonly TimeSpan StaleMargin = TimeSpan.FromMilliseconds(1500);

    // A probe is worth a possible 429 only when the reset is uncertain by more than this share of the window.
    private const double ProbeShare = 0.02;
    private static readonly TimeSpan MinimumProbeGain = TimeSpan.FromMilliseconds(40);

    private readonly TimeProvider _time;
    private readonly SlidingWindowRateLimiter _local;
    private readonly CancellationTokenSource _heard = new();
    private readonly Lock _lock = new();

    // When the calls were answered that came without a reading after the earliest the current window can
    // reset: the server may have counted them in the next window, which starts with that many fewer.
    private readonly Queue<DateTimeOffset> _carried = new();

    private TaskCompletionSource _changed = NewSignal();
    private int _inFlight;
    private int? _limit;
    private int? _remaining;
    private DateTimeOffset? _resetAt;
    private bool _resetIsGuess;
    private bool _remainingIsGuess;
    private DateTimeOffset _windowStart = DateTimeOffset.MinValue;
    private TimeSpan? _windowLength;
    private DateTimeOffset? _resetFloor;
    private DateTimeOffset? _probeSentAt;
    private bool _probed;

    // Whether a request has been refused (429) in the current window: it is not probed then.
    private bool _refused;

    // Calls answered without a reading before the server first spoke: taken off the first calls left it states.
    private int _spentUnheard;

    // Whether an answer with a reading was counted in the current window (which confirms a guessed end).
    private bool _windowHeard;

    // The window's end was guessed, no answer confirmed it, and it has passed: the window may not have reset.
    // Once its count is spent, one request at a time finds out.
    private bool _overdue;

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
    /// Takes a place in flight when the server's word allows one more request at <paramref name="now"/>;
    /// otherwise says what to wait for: the reset, the time of a probe, or an answer that changes the count.
    /// </summary>
    /// <returns>
    /// The entry: let through (with the time it is entered at, which <see cref="Release"/> and
    /// <see cref="Complete"/> take back) or held.
    /// </returns>
    public RateLimitEntry TryEnter(DateTimeOffset now)
    {
        lock (_lock)
        {
            Roll(now);
            if (_remaining is not { } remaining || remaining - _inFlight > 0)
            {
                return Enter(now);
            }

            if (_overdue)
            {
                // The guessed end has passed and nothing says whether the window has reset: once the count is
                // spent, one request at a time goes to find out (a 429 names the reset; an answer counts).
                if (remaining <= 0 && _probeSentAt is null)
                {
                    return Enter(now, probe: true);
                }

                return RateLimitEntry.Held(new RateLimitHold(Scope, null, _changed.Task));
            }

            if (remaining <= 0 && ProbeAt() is { } probeAt)
            {
                if (now >= probeAt)
                {
                    // One request goes ahead to find out whether the window has already reset.
                    _probed = true;
                    return Enter(now, probe: true);
                }

                return RateLimitEntry.Held(new RateLimitHold(Scope, probeAt, _changed.Task));
            }

            // Nothing left, or what is left is taken by requests in flight. With nothing in flight and no
            // reset known nothing would wake the wait: look again in a second.
            var until = _resetAt ?? (_inFlight == 0 ? now + TimeSpan.FromSeconds(1) : null);
            return RateLimitEntry.Held(new RateLimitHold(Scope, until, _changed.Task));
        }
    }

    /// <summary>Gives back the place <see cref="TryEnter"/> took (entered at <paramref name="enteredAt"/>) for a request that was not sent.</summary>
    public void Release(DateTimeOffset enteredAt)
    {
        lock (_lock)
        {
            _inFlight--;
            if (_probeSentAt == enteredAt)
            {
                _probeSentAt = null;
                _probed = false;
            }
        }

        Pulse();
    }

    /// <summary>
    /// Ends a request's place in flight with what its response said about this limit.
    /// </summary>
    /// <param name="sentAt">When the request was let through: the time its entry was entered at (<see cref="RateLimitEntry.EnteredAt"/>).</param>
    /// <param name="reading">The response's reading; unknown when it carried none (or there was no response).</param>
    /// <param name="refusedSeconds">Set when a 429 named this limit: the seconds until it resets.</param>
    public void Complete(DateTimeOffset sentAt, RateLimitReading reading, int? refusedSeconds)
    {
        var first = false;
        lock (_lock)
        {
            _inFlight--;
            if (_probeSentAt == sentAt)
            {
                _probeSentAt = null;
            }

            var now = _time.GetUtcNow();
            Roll(now);
            if (refusedSeconds is { } refused)
            {
                // Nothing is left until the reset the 429 names.
                reading = reading with { Remaining = 0, ResetSeconds = refused };
            }

            if (reading is { Remaining: { } remaining, ResetSeconds: { } resetSeconds })
            {
                first = Hear(resetSeconds);
                _limit = reading.Limit ?? _limit;
                var resetAt = now + TimeSpan.FromSeconds(resetSeconds);

                // The server counted the request after sentAt and rounds the reset up, so its window resets
                // after sentAt + reset - 1 s; a refused request also proves the window had not reset by sentAt.
                var floor = sentAt + TimeSpan.FromSeconds(resetSeconds - 1);
                if (refusedSeconds is not null && sentAt > floor)
                {
                    floor = sentAt;
                }

                var stale = IsStale(sentAt, resetAt);
                if (stale)
                {
                    // Answered from a window that has since reset: it says nothing about this one.
                }
                else if (_resetAt is not { } known || floor >= Guessed(known))
                {
                    // The first word, or a later window than the one known (or guessed). Requests let through
                    // before this one may have been counted in the old window. A spent window that was just
                    // followed by this one bounds its start: one window length after the old bound.
                    var bound = _remaining == 0 && !_remainingIsGuess && !_resetIsGuess && _resetFloor is { } oldFloor && _windowLength is { } length ? oldFloor + length : (DateTimeOffset?)null;
                    if (_resetAt is not null && !_resetIsGuess)
                    {
                        _windowStart = sentAt;
                    }

                    // Calls answered without a word before the server first spoke may have been counted after
                    // this one (some twice, then: a few calls, once). The server's count holds the calls carried.
                    _remaining = Math.Max(remaining - _spentUnheard, 0);
                    _spentUnheard = 0;
                    _carried.Clear();
                    _remainingIsGuess = false;
                    _resetAt = resetAt;
                    _resetIsGuess = false;
                    _resetFloor = bound > floor ? bound : floor;
                    _probed = false;
                    _refused = refusedSeconds is not null;
                }
                else
                {
                    // The same window. Answers arrive out of order, so the smallest count is the truth (the
                    // first answer replaces the whole limit assumed when the window began). Every reset said
                    // is rounded up, so the earliest is the closest to the real one; so is the guess, while
                    // it is the earliest and the last window's length has been seen whole.
                    _remaining = _remainingIsGuess ? remaining : Math.Min(_remaining ?? remaining, remaining);
                    _remainingIsGuess = false;

                    // A guessed end this answer puts the reset after, or that had passed when the request went (the
                    // window went on, or this answer is from the next), gives way to the answer's reset.
                    var guessed = Guessed(known);
                    var refuted = _resetIsGuess && (guessed < floor || sentAt >= guessed);
                    _resetIsGuess = _resetIsGuess && !refuted && guessed <= resetAt;
                    _resetAt = !refuted && guessed < resetAt ? guessed : resetAt;

                    // A bound carried from a window guessed to have reset, that this answer shows had not (its
                    // latest reset is before the bound), says nothing: the answer's own bound stands.
                    var merged = _resetFloor > floor ? _resetFloor.Value : floor;
                    _resetFloor = merged <= _resetAt ? merged : floor;
                    if (refusedSeconds is not null)
                    {
                        // The window was spent when the server counted this request: calls answered by the time
                        // it was sent were counted in this window, not the next. And it is not probed: one 429 a
                        // window.
                        while (_carried.TryPeek(out var answeredAt) && answeredAt <= sentAt)
                        {
                            _carried.Dequeue();
                        }

                        _refused = true;
                    }
                }

                if (!stale)
                {
                    // A word from this window: its end is no longer a bare guess.
                    _windowHeard = true;
                    _overdue = false;
                }
            }
            else if (_remaining is { } left)
            {
                // No word from the server: the last known state stands, and this request spent a call of it
                // (though it may have been counted in the window before). Answered after the earliest this
                // window can reset, it may have been counted in the next (a probe always is answered then).
                _remaining = Math.Max(left - 1, 0);
                if (_resetFloor is { } earliest && now >= earliest)
                {
                    _carried.Enqueue(now);
                }
            }
            else if (_windowLength is null)
            {
                // No word from the server yet.
                _spentUnheard++;
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
    ValueTask<bool> IRateLimitBudget.TryTakeLocalAsync(CancellationToken cancellationToken) => ValueTask.FromResult(TryTakeLocal());

    /// <inheritdoc />
    ValueTask<RateLimitEntry> IRateLimitBudget.TryEnterAsync(DateTimeOffset now, CancellationToken cancellationToken) => ValueTask.FromResult(TryEnter(now));

    /// <inheritdoc />
    ValueTask IRateLimitBudget.ReleaseAsync(DateTimeOffset enteredAt)
    {
        Release(enteredAt);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    ValueTask IRateLimitBudget.CompleteAsync(DateTimeOffset sentAt, RateLimitReading reading, int? refusedSeconds)
    {
        Complete(sentAt, reading, refusedSeconds);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _local.Dispose();
        _heard.Dispose();
    }

    /// <summary>
    /// When the known window has reset, starts the next: the whole limit (less the calls carried into it), one
    /// window length long. A guessed end that no answer confirmed starts nothing: the window is overdue.
    /// </summary>
    private void Roll(DateTimeOffset now)
    {
        if (_resetAt is not { } resetAt || now < resetAt)
        {
            return;
        }

        if (_resetIsGuess && !_windowHeard)
        {
            // The end was guessed from the lengths said, which are only as long as the window was when they were
            // said (an answer late in a window says little), and nothing in this window confirmed it.
            _overdue = true;
            return;
        }

        // A fixed window: the new one holds the whole limit and lasts as long as the longest reset ever said
        // (whole seconds, so the window's length once an answer came in its first second). Answers correct
        // both; keeping the guessed end, rather than each window's first answer, keeps the phase from
        // drifting by a round trip every window.
        var carried = _carried.Count;
        _carried.Clear();
        _remainingIsGuess = true;
        _probeSentAt = null;
        _probed = false;
        _refused = false;
        _windowHeard = false;
        _overdue = false;
        if (_windowLength is { } length)
        {
            var periods = (now - resetAt).Ticks / length.Ticks;
            _windowStart = resetAt + TimeSpan.FromTicks(periods * length.Ticks);
            _resetAt = _windowStart + length;
            _resetIsGuess = true;
            _resetFloor += TimeSpan.FromTicks((periods + 1) * length.Ticks);
            if (periods > 0)
            {
                // The calls carried were counted in a window that has passed too.
                carried = 0;
            }
        }
        else
        {
            _windowStart = resetAt;
            _resetAt = null;
            _resetFloor = null;
        }

        _remaining = _limit is { } limit ? Math.Max(limit - carried, 0) : null;
    }

    /// <summary>
    /// Takes a place in flight for a request let through at <paramref name="now"/>, entered no earlier than the
    /// window that lets it through began (another request may have begun it since the caller read the clock).
    /// </summary>
    private RateLimitEntry Enter(DateTimeOffset now, bool probe = false)
    {
        var enteredAt = now > _windowStart ? now : _windowStart;
        _inFlight++;
        if (probe)
        {
            _probeSentAt = enteredAt;
        }

        return RateLimitEntry.At(enteredAt);
    }

    /// <summary>
    /// When a spent window's reset is known only to within a large share of the window (resets are whole
    /// seconds: up to a second of a 2-second window), the time to let one request go ahead: halfway between
    /// the earliest and the latest the reset can be. A 429 raises the earliest, an answer lowers the latest,
    /// and the next window starts from what this one learned, so the phase converges in a few windows at the
    /// cost of at most one 429 a window. Not for windows where a second is little (Buildkite's minute).
    /// </summary>
    private DateTimeOffset? ProbeAt()
    {
        if (_probed || _refused || _probeSentAt is not null || _remainingIsGuess
            || _resetAt is not { } latest || _resetFloor is not { } earliest || _windowLength is not { } length
            || latest - earliest <= Max(MinimumProbeGain, length * ProbeShare))
        {
            return null;
        }

        return earliest + ((latest - earliest) / 2);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

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
