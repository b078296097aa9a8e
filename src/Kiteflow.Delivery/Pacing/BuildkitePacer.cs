using System.Threading.RateLimiting;

namespace Kiteflow.Delivery.Pacing;

/// <summary>
/// Paces one run's requests to Buildkite's two limits (SPEC §4). Each request spends from two
/// <see cref="RateLimitBudget"/>s, its organization's (from the URL) and its token user's, and waits only
/// for the one that is spent: the server's <c>RateLimit-*</c> and <c>RateLimit-User-*</c> headers are
/// authoritative as soon as one response has stated them, tracked for each limit apart; Buildkite's
/// documented defaults (200 and 50 a minute) stand in only before that. After a 429 the limit it names
/// is spent until the reset it names. The budgets may be shared with other pacers (other runs of the same
/// organization or user). The caps a user sets (<c>delivery.*RequestsPerMinute</c>) belong to this run and
/// hold always, on top of the server's word.
/// </summary>
internal sealed class BuildkitePacer : IAsyncDisposable
{
    private readonly IRateLimitBudgetSource? _budgets;
    private readonly IRateLimitBudget? _user;
    private readonly int? _organizationCap;
    private readonly SlidingWindowRateLimiter? _userCap;
    private readonly Dictionary<string, SlidingWindowRateLimiter> _organizationCaps = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _time;
    private long _waits;
    private long _organizationWaits;
    private long _userWaits;
    private long _localWaits;
    private long _capWaits;

    /// <param name="budgets">Where the organizations' and users' budgets live; null turns pacing off.</param>
    /// <param name="user">The token user's key in <paramref name="budgets"/>.</param>
    /// <param name="organizationCap">At most this many requests a minute to any one organization, whatever the server allows; null for none.</param>
    /// <param name="userCap">At most this many requests a minute in all, whatever the server allows; null for none.</param>
    /// <param name="time">The clock.</param>
    public BuildkitePacer(IRateLimitBudgetSource? budgets, string user, int? organizationCap, int? userCap, TimeProvider time)
    {
        _budgets = budgets;
        _time = time;
        if (budgets is not null)
        {
            _user = budgets.User(user);
            _organizationCap = organizationCap;
            _userCap = userCap is { } cap ? RateLimitBudget.PerMinute(cap) : null;
        }
    }

    /// <summary>Whether pacing is on.</summary>
    public bool Enabled => _budgets is not null;

    /// <summary>How many requests waited for anything: a limit's reset, answers in flight, the local budget or a cap.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>How many requests waited because the organization's limit was spent (or taken by requests in flight).</summary>
    public long OrganizationWaits => Interlocked.Read(ref _organizationWaits);

    /// <summary>How many requests waited because the user's limit was spent (or taken by requests in flight).</summary>
    public long UserWaits => Interlocked.Read(ref _userWaits);

    /// <summary>How many requests waited for the local budget, before the server had stated a limit.</summary>
    public long LocalWaits => Interlocked.Read(ref _localWaits);

    /// <summary>How many requests waited for a cap the user set.</summary>
    public long CapWaits => Interlocked.Read(ref _capWaits);

    /// <summary>
    /// Waits until a request to <paramref name="url"/> may go. Tell the lease what the response said
    /// (<see cref="Lease.ObserveAsync"/>) and dispose it when the request is done.
    /// </summary>
    public async ValueTask<Lease> AcquireAsync(string url, CancellationToken cancellationToken)
    {
        if (_budgets is null)
        {
            return Lease.None;
        }

        var organization = _budgets.Organization(RateLimitBudgets.OrganizationOf(url));
        var waited = Waited.None;

        // The user's caps hold always.
        if (_userCap is not null && !TryTake(_userCap))
        {
            Count(ref waited, Waited.Cap, ref _capWaits);
            using var permit = await _userCap.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        }

        if (OrganizationCap(organization.Key) is { } organizationCap && !TryTake(organizationCap))
        {
            Count(ref waited, Waited.Cap, ref _capWaits);
            using var permit = await organizationCap.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        }

        // Before the server has stated a limit, Buildkite's documented default stands in for it.
        if (!await organization.TryTakeLocalAsync(cancellationToken).ConfigureAwait(false))
        {
            Count(ref waited, Waited.Local, ref _localWaits);
            await organization.WaitForLocalAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!await _user!.TryTakeLocalAsync(cancellationToken).ConfigureAwait(false))
        {
            Count(ref waited, Waited.Local, ref _localWaits);
            await _user.WaitForLocalAsync(cancellationToken).ConfigureAwait(false);
        }

        // The server's word: a place in flight in both budgets, waiting only for the one that holds it back. Each
        // budget says when it entered the request (never before the window that let it through began), and is
        // told that time back.
        while (true)
        {
            var now = _time.GetUtcNow();
            var entry = await organization.TryEnterAsync(now, cancellationToken).ConfigureAwait(false);
            if (entry.Entered)
            {
                var user = await _user.TryEnterAsync(now, cancellationToken).ConfigureAwait(false);
                if (user.Entered)
                {
                    return new Lease(organization, entry.EnteredAt, _user, user.EnteredAt);
                }

                await organization.ReleaseAsync(entry.EnteredAt).ConfigureAwait(false);
                Count(ref waited, Waited.User, ref _userWaits);
                entry = user;
            }
            else
            {
                Count(ref waited, Waited.Organization, ref _organizationWaits);
            }

            await WaitAsync(entry.Hold, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_userCap is not null)
        {
            await _userCap.DisposeAsync().ConfigureAwait(false);
        }

        List<SlidingWindowRateLimiter> caps;
        lock (_organizationCaps)
        {
            caps = [.. _organizationCaps.Values];
            _organizationCaps.Clear();
        }

        foreach (var cap in caps)
        {
            await cap.DisposeAsync().ConfigureAwait(false);
        }
    }

    private SlidingWindowRateLimiter? OrganizationCap(string organization)
    {
        if (_organizationCap is not { } perMinute)
        {
            return null;
        }

        lock (_organizationCaps)
        {
            if (!_organizationCaps.TryGetValue(organization, out var cap))
            {
                cap = RateLimitBudget.PerMinute(perMinute);
                _organizationCaps[organization] = cap;
            }

            return cap;
        }
    }

    /// <summary>Waits for the reset a hold names (plus jitter), or for its budget's count to change.</summary>
    private async Task WaitAsync(RateLimitHold hold, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reset = hold.Until is { } until
            ? Task.Delay(Max(until - _time.GetUtcNow(), TimeSpan.Zero) + Jitter(), _time, stop.Token)
            : Task.Delay(Timeout.InfiniteTimeSpan, _time, stop.Token);
        await Task.WhenAny(reset, hold.Changed).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);  // the timer is not needed any more
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void Count(ref Waited waited, Waited cause, ref long counter)
    {
        if (waited == Waited.None)
        {
            Interlocked.Increment(ref _waits);
        }

        if ((waited & cause) == 0)
        {
            waited |= cause;
            Interlocked.Increment(ref counter);
        }
    }

    private static bool TryTake(RateLimiter limiter)
    {
        using var lease = limiter.AttemptAcquire();
        return lease.IsAcquired;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    // Enough to spread several clients of one organization; small next to a window.
    private static TimeSpan Jitter() => TimeSpan.FromMilliseconds(Random.Shared.Next(20, 100));

    [Flags]
    private enum Waited
    {
        None = 0,
        Organization = 1,
        User = 2,
        Local = 4,
        Cap = 8,
    }

    /// <summary>A request's place in flight in both budgets; tell it what the response said, and dispose it when the request is done.</summary>
    internal sealed class Lease : IAsyncDisposable
    {
        /// <summary>The lease of a run that is not paced.</summary>
        public static readonly Lease None = new(null, default, null, default);

        private readonly IRateLimitBudget? _organization;
        private readonly DateTimeOffset _organizationEnteredAt;
        private readonly IRateLimitBudget? _user;
        private readonly DateTimeOffset _userEnteredAt;
        private int _done;

        internal Lease(IRateLimitBudget? organization, DateTimeOffset organizationEnteredAt, IRateLimitBudget? user, DateTimeOffset userEnteredAt)
        {
            _organization = organization;
            _organizationEnteredAt = organizationEnteredAt;
            _user = user;
            _userEnteredAt = userEnteredAt;
        }

        /// <summary>Hands the response's word on both limits to their budgets, and ends the request's place in flight.</summary>
        public async ValueTask ObserveAsync(RateLimitHeaders headers)
        {
            if (_organization is null || Interlocked.Exchange(ref _done, 1) != 0)
            {
                return;
            }

            await _organization.CompleteAsync(_organizationEnteredAt, headers.Organization, headers.OrganizationRefusedSeconds).ConfigureAwait(false);
            await _user!.CompleteAsync(_userEnteredAt, headers.User, headers.UserRefusedSeconds).ConfigureAwait(false);
        }

        /// <summary>Ends the request's place in flight; without <see cref="ObserveAsync"/>, the request counts as spent with no word on the limits.</summary>
        public ValueTask DisposeAsync() => ObserveAsync(default);
    }
}
