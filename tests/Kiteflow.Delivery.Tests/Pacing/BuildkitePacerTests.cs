using Kiteflow.Delivery.Pacing;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Delivery.Tests.Pacing;

/// <summary>
/// The pacer on a fake clock: which limit a request waits for, and until when. A wait that should end at a
/// reset is released by moving the clock just past that reset (jitter is under 100 ms); had the pacer waited
/// for another, later reset, the request would never be let through and the test would fail on its timeout.
/// </summary>
public sealed class BuildkitePacerTests : IAsyncDisposable
{
    private const string Acme = "https://api.buildkite.com/v2/organizations/acme/pipelines/web/builds";
    private const string Other = "https://api.buildkite.com/v2/organizations/other/pipelines/web/builds";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
    private readonly RateLimitBudgets _budgets;
    private readonly BuildkitePacer _pacer;

    public BuildkitePacerTests()
    {
        _budgets = new RateLimitBudgets(_time, organizationPerMinute: 200, userPerMinute: 2);
        _pacer = new BuildkitePacer(_budgets, "me", organizationCap: null, userCap: null, _time);
    }

    [Fact]
    public async Task AcquireAsync_OnlyTheUserLimitSpent_WaitsForTheUserResetNotTheOrganizations()
    {
        await AnswerAsync(Acme, Headers(organization: (200, 150, 60), user: (50, 0, 3)));

        var next = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(3.1));
        await using var lease = await next.WaitAsync(Patience);

        Assert.Equal((1L, 0L), (_pacer.UserWaits, _pacer.OrganizationWaits));
    }

    [Fact]
    public async Task AcquireAsync_OnlyTheOrganizationLimitSpent_WaitsForTheOrganizationResetNotTheUsers()
    {
        await AnswerAsync(Acme, Headers(organization: (20, 0, 2), user: (100_000, 99_000, 60)));

        var next = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2.1));
        await using var lease = await next.WaitAsync(Patience);

        Assert.Equal((1L, 0L), (_pacer.OrganizationWaits, _pacer.UserWaits));
    }

    [Fact]
    public async Task AcquireAsync_OneOrganizationSpent_AnotherOrganizationStillGoes()
    {
        await AnswerAsync(Acme, Headers(organization: (200, 0, 60), user: (1000, 900, 60)));

        await using var lease = await _pacer.AcquireAsync(Other, CancellationToken.None).AsTask().WaitAsync(Patience);

        Assert.Equal(0L, _pacer.Waits);
    }

    [Fact]
    public async Task AcquireAsync_GenerousServerLimits_TheLocalBudgetNoLongerApplies()
    {
        // The local user budget is 2 a minute; the server says 100,000.
        for (var i = 0; i < 10; i++)
        {
            await AnswerAsync(Acme, Headers(organization: (100_000, 99_000 - i, 60), user: (100_000, 99_000 - i, 60)));
        }

        Assert.Equal(0L, _pacer.Waits);
    }

    [Fact]
    public async Task AcquireAsync_BeforeAnyHeader_TheLocalBudgetGoverns_UntilTheServerSpeaks()
    {
        await using var first = await _pacer.AcquireAsync(Acme, CancellationToken.None);
        await using var second = await _pacer.AcquireAsync(Acme, CancellationToken.None);

        var third = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(third.IsCompleted);
        Assert.Equal(1L, _pacer.LocalWaits);
        await first.ObserveAsync(Headers(organization: (200, 197, 60), user: (50, 47, 60)));
        await using var lease = await third.WaitAsync(Patience);

        Assert.Equal((0L, 0L), (_pacer.OrganizationWaits, _pacer.UserWaits));
    }

    [Fact]
    public async Task AcquireAsync_RequestsInFlight_CountAgainstWhatIsLeft()
    {
        await AnswerAsync(Acme, Headers(organization: (200, 150, 60), user: (50, 3, 10)));
        var a = await _pacer.AcquireAsync(Acme, CancellationToken.None);
        var b = await _pacer.AcquireAsync(Acme, CancellationToken.None);
        var c = await _pacer.AcquireAsync(Acme, CancellationToken.None);

        // Three left and three in flight: the fourth waits for their answers.
        var d = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(d.IsCompleted);
        await a.ObserveAsync(Headers(organization: (200, 149, 60), user: (50, 2, 10)));
        await b.ObserveAsync(Headers(organization: (200, 148, 60), user: (50, 1, 10)));
        await c.ObserveAsync(Headers(organization: (200, 147, 60), user: (50, 0, 10)));

        // Every call is spent: the fourth goes once the user's window has reset.
        _time.Advance(TimeSpan.FromSeconds(10.1));
        await using var lease = await d.WaitAsync(Patience);
        Assert.Equal((1L, 0L), (_pacer.UserWaits, _pacer.OrganizationWaits));
    }

    [Fact]
    public async Task AcquireAsync_AnswersInFlightAlreadyCounted_TheWaitingRequestGoesBeforeTheReset()
    {
        await AnswerAsync(Acme, Headers(organization: (200, 150, 60), user: (50, 2, 10)));
        var a = await _pacer.AcquireAsync(Acme, CancellationToken.None);
        var b = await _pacer.AcquireAsync(Acme, CancellationToken.None);
        var c = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(c.IsCompleted);

        // Both answers still say 2 left: the server had counted them before the answer that said 2.
        await a.ObserveAsync(Headers(organization: (200, 150, 60), user: (50, 2, 10)));
        await b.ObserveAsync(Headers(organization: (200, 150, 60), user: (50, 2, 10)));

        await using var lease = await c.WaitAsync(Patience);
    }

    [Fact]
    public async Task Observe_ResponseWithoutRateLimitHeaders_KeepsTheLastKnownState_AndCountsTheCall()
    {
        await AnswerAsync(Acme, Headers(organization: (200, 150, 60), user: (50, 1, 10)));

        // The one call left is spent by a request whose answer carried no RateLimit-* header.
        await AnswerAsync(Acme, default);

        var next = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(10.1));
        await using var lease = await next.WaitAsync(Patience);
        Assert.Equal(1L, _pacer.UserWaits);
    }

    [Fact]
    public async Task Observe_429NamingTheUser_WaitsForTheResetItNames_NotForTheOrganization()
    {
        await AnswerAsync(Acme, Headers(organization: (200, 150, 60), user: (50, 0, 5)).AsRefusal("""{"message":"You have exceeded your API rate limit.","scope":"rest_user","limit":50,"current":51,"reset":5}"""));

        var next = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5.1));
        await using var lease = await next.WaitAsync(Patience);

        Assert.Equal((1L, 0L), (_pacer.UserWaits, _pacer.OrganizationWaits));
    }

    [Fact]
    public async Task Observe_429NamingTheOrganization_WaitsForItsReset_ThoughTheUserHeadersShowCallsLeft()
    {
        await AnswerAsync(Acme, Headers(organization: (200, 3, 40), user: (50, 30, 40)).AsRefusal("""{"scope":"rest","reset":7}"""));

        var next = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(7.1));
        await using var lease = await next.WaitAsync(Patience);

        Assert.Equal((1L, 0L), (_pacer.OrganizationWaits, _pacer.UserWaits));
    }

    [Fact]
    public async Task Observe_LateAnswerFromAWindowThatHasReset_DoesNotSpendTheNewWindow()
    {
        // Two requests in flight; the first answer says the 2-second window is spent.
        var early = await _pacer.AcquireAsync(Acme, CancellationToken.None);
        await AnswerAsync(Acme, Headers(organization: (20, 0, 2), user: (1000, 900, 60)));
        _time.Advance(TimeSpan.FromSeconds(2.1));

        // The window has reset when the other answer, counted in the old window, arrives.
        await early.ObserveAsync(Headers(organization: (20, 0, 1), user: (1000, 899, 60)));

        await using var lease = await _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask().WaitAsync(Patience);
        Assert.Equal(0L, _pacer.OrganizationWaits);
    }

    [Fact]
    public async Task AcquireAsync_SpentShortWindow_OneRequestProbesHalfway_ItsAnswerLetsTheOthersGo()
    {
        // Sent at t and told "0 left, reset in 2 s": the window resets after t + 1 s and by t + 2 s.
        await AnswerAsync(Acme, Headers(organization: (20, 0, 2), user: (100_000, 99_000, 60)));
        var a = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        var b = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();

        // Halfway, one request goes ahead alone.
        _time.Advance(TimeSpan.FromSeconds(1.6));
        var first = await Task.WhenAny(a, b).WaitAsync(Patience);
        var probe = await first;
        var other = first == a ? b : a;
        Assert.False(other.IsCompleted);

        // It is answered from a fresh window: the others need not wait for the latest possible reset.
        await probe.ObserveAsync(Headers(organization: (20, 19, 2), user: (100_000, 98_999, 60)));
        await probe.DisposeAsync();
        await using var lease = await other.WaitAsync(Patience);
        Assert.Equal(0L, _pacer.UserWaits);
    }

    [Fact]
    public async Task AcquireAsync_ProbeRefused_NoSecondProbeInTheWindow_TheOthersWaitForTheReset()
    {
        await AnswerAsync(Acme, Headers(organization: (20, 0, 2), user: (100_000, 99_000, 60)));
        var a = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        var b = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1.6));
        var first = await Task.WhenAny(a, b).WaitAsync(Patience);
        var probe = await first;
        var other = first == a ? b : a;

        // Too early: the window had not reset. Nothing else goes before the latest possible reset.
        await probe.ObserveAsync(Headers(organization: (20, 0, 1), user: (100_000, 98_999, 60)).AsRefusal("""{"scope":"rest","reset":1}"""));
        await probe.DisposeAsync();
        _time.Advance(TimeSpan.FromSeconds(0.3));
        Assert.False(other.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.2));
        await using var lease = await other.WaitAsync(Patience);
    }

    [Fact]
    public async Task AcquireAsync_ProbeAnsweredWithoutRateLimitHeaders_ItsCallCountsInTheNextWindow()
    {
        // 10 calls a window, none left, reset in 5 s: the window resets after 4 s and by 5 s.
        await AnswerAsync(Acme, Headers(organization: (200, 150, 60), user: (10, 0, 5)));

        // The probe goes at 4.5 s and is answered by the next window, through a proxy that strips the headers.
        var probe = _pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(probe.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(4.6));
        await using (var lease = await probe.WaitAsync(Patience))
        {
            await lease.ObserveAsync(default);
        }

        // The next window has 9 calls left, not 10: a tenth request would be refused.
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(9, await GoAtOnceAsync(_pacer, 11));
    }

    [Fact]
    public async Task AcquireAsync_ClockReadBeforeAnotherRequestBeganTheWindow_ItsAnswerIsHeardInThatWindow()
    {
        using var budgets = new RateLimitBudgets(_time, organizationPerMinute: 200, userPerMinute: 2);
        var source = new HeldOrganizations(budgets);
        await using var pacer = new BuildkitePacer(source, "me", organizationCap: null, userCap: null, _time);
        await using (var first = await pacer.AcquireAsync(Acme, CancellationToken.None))
        {
            // The user's 1-second window is spent: it resets by 1 s.
            await first.ObserveAsync(Headers(organization: (200, 150, 60), user: (10, 0, 1)));
        }

        // One request reads the clock at 0.2 s and is held up on its way to the user's budget.
        _time.Advance(TimeSpan.FromSeconds(0.2));
        var gate = source.HoldNext();
        var late = pacer.AcquireAsync(Acme, CancellationToken.None).AsTask();
        Assert.False(late.IsCompleted);

        // Another, at 1.1 s, begins the user's new window; then the first gets there, is let through and counted
        // in that window: its answer says 8 left, and the other is still in flight.
        _time.Advance(TimeSpan.FromSeconds(0.9));
        await using var fresh = await pacer.AcquireAsync(Acme, CancellationToken.None).AsTask().WaitAsync(Patience);
        gate.SetResult();
        await using (var lateLease = await late.WaitAsync(Patience))
        {
            await lateLease.ObserveAsync(Headers(organization: (200, 148, 60), user: (10, 8, 1)));
        }

        Assert.Equal(7, await GoAtOnceAsync(pacer, 11));
    }

    [Fact]
    public async Task AcquireAsync_UserCap_HoldsThoughTheServerAllowsMore()
    {
        await using var capped = new BuildkitePacer(_budgets, "me", organizationCap: null, userCap: 2, _time);
        for (var i = 0; i < 2; i++)
        {
            await using var lease = await capped.AcquireAsync(Acme, CancellationToken.None);
            await lease.ObserveAsync(Headers(organization: (100_000, 99_000, 60), user: (100_000, 99_000, 60)));
        }

        using var stop = new CancellationTokenSource();
        var third = capped.AcquireAsync(Acme, stop.Token).AsTask();

        Assert.False(third.IsCompleted);
        Assert.Equal(1L, capped.CapWaits);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third.WaitAsync(Patience));
    }

    [Fact]
    public async Task AcquireAsync_PacingOff_NeverWaits()
    {
        await using var off = new BuildkitePacer(null, "me", organizationCap: 1, userCap: 1, _time);

        for (var i = 0; i < 5; i++)
        {
            await using var lease = await off.AcquireAsync(Acme, CancellationToken.None);
            await lease.ObserveAsync(Headers(organization: (20, 0, 60), user: (5, 0, 60)));
        }

        Assert.False(off.Enabled);
        Assert.Equal(0L, off.Waits);
    }

    public async ValueTask DisposeAsync()
    {
        await _pacer.DisposeAsync();
        _budgets.Dispose();
    }

    /// <summary>One request that goes at once and is answered with <paramref name="headers"/>.</summary>
    private async Task AnswerAsync(string url, RateLimitHeaders headers)
    {
        await using var lease = await _pacer.AcquireAsync(url, CancellationToken.None).AsTask().WaitAsync(Patience);
        await lease.ObserveAsync(headers);
    }

    /// <summary>How many of <paramref name="attempts"/> requests <paramref name="pacer"/> lets through at once (they stay in flight).</summary>
    private static async Task<int> GoAtOnceAsync(BuildkitePacer pacer, int attempts)
    {
        var went = 0;
        for (var i = 0; i < attempts; i++)
        {
            var next = pacer.AcquireAsync(Acme, CancellationToken.None);
            if (!next.IsCompleted)
            {
                return went;
            }

            await next;
            went++;
        }

        return went;
    }

    private static RateLimitHeaders Headers((int Limit, int Remaining, int Reset) organization, (int Limit, int Remaining, int Reset) user) => new(
        new RateLimitReading(organization.Limit, organization.Remaining, organization.Reset),
        new RateLimitReading(user.Limit, user.Remaining, user.Reset));

    /// <summary>The process's budgets, with a way to hold the next request up at its organization's budget (as a stalled thread or a queued message would).</summary>
    private sealed class HeldOrganizations(RateLimitBudgets budgets) : IRateLimitBudgetSource
    {
        private TaskCompletionSource? _next;

        /// <summary>Holds the next request that asks the organization's budget until the returned source is set.</summary>
        public TaskCompletionSource HoldNext() => _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public IRateLimitBudget Organization(string slug) => new Held(this, budgets.Organization(slug));

        public IRateLimitBudget User(string key) => budgets.User(key);

        private sealed class Held(HeldOrganizations source, IRateLimitBudget budget) : IRateLimitBudget
        {
            public RateLimitScope Scope => budget.Scope;

            public string Key => budget.Key;

            public ValueTask<bool> TryTakeLocalAsync(CancellationToken cancellationToken) => budget.TryTakeLocalAsync(cancellationToken);

            public Task WaitForLocalAsync(CancellationToken cancellationToken) => budget.WaitForLocalAsync(cancellationToken);

            public async ValueTask<RateLimitEntry> TryEnterAsync(DateTimeOffset now, CancellationToken cancellationToken)
            {
                if (Interlocked.Exchange(ref source._next, null) is { } held)
                {
                    await held.Task.WaitAsync(cancellationToken);
                }

                return await budget.TryEnterAsync(now, cancellationToken);
            }

            public ValueTask ReleaseAsync(DateTimeOffset enteredAt) => budget.ReleaseAsync(enteredAt);

            public ValueTask CompleteAsync(DateTimeOffset sentAt, RateLimitReading reading, int? refusedSeconds) => budget.CompleteAsync(sentAt, reading, refusedSeconds);
        }
    }
}
