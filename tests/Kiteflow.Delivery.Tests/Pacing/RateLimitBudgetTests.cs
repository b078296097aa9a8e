using Kiteflow.Delivery.Pacing;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Delivery.Tests.Pacing;

/// <summary>
/// One budget on a fake clock, answered as Buildkite (or a proxy that strips its headers) would: how many
/// requests each window lets through, and which requests it holds. A window of 10 calls that lets through an
/// 11th has sent a request the server refuses with 429.
/// </summary>
public sealed class RateLimitBudgetTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly RateLimitBudget _budget;

    public RateLimitBudgetTests()
    {
        _budget = new RateLimitBudget(RateLimitScope.User, "me", defaultPerMinute: 50, _time);
    }

    [Fact]
    public void Complete_ProbeAnsweredWithoutAReading_ItsCallCountsInTheNextWindow()
    {
        // Sent at 0 s and told "none left, reset in 5 s": the window resets after 4 s and by 5 s.
        SpendTheWindow(resetSeconds: 5);

        // The probe goes halfway (4.5 s) and is answered by the next window (the real reset was at 4.2 s), but a
        // proxy stripped the headers: nothing says so, yet that window has spent one of its 10 calls.
        _time.Advance(TimeSpan.FromSeconds(4.6));
        var probe = Enter();
        Assert.NotNull(probe);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        _budget.Complete(probe.Value, default, refusedSeconds: null);

        _time.Advance(TimeSpan.FromSeconds(0.4));
        Assert.Equal(9, EnterAll());
    }

    [Fact]
    public void Complete_RequestLetThroughBeforeTheResetAnsweredAfterIt_WithoutAReading_CountsInTheNewWindow()
    {
        SpendTheWindow(resetSeconds: 5);
        _time.Advance(TimeSpan.FromSeconds(4.6));
        var probe = Enter();
        Assert.NotNull(probe);

        // The probe's answer (no reading) comes after the window the budget knew has reset: it went after the
        // earliest that window could reset, so the server may have counted it in the new one.
        _time.Advance(TimeSpan.FromSeconds(0.5));
        _budget.Complete(probe.Value, default, refusedSeconds: null);

        Assert.Equal(9, EnterAll());
    }

    [Fact]
    public void Complete_AnsweredWithoutAReadingAfterTheEarliestReset_CountsInTheNextWindowToo()
    {
        // 5 of 10 calls left, reset in 2 s: the window resets after 1 s and by 2 s.
        var first = Enter();
        _budget.Complete(first!.Value, new RateLimitReading(10, 5, 2), refusedSeconds: null);

        // Five requests go at 0.9 s and are answered at 1.2 s, without headers: the server may have counted them
        // after its reset, in the next window.
        _time.Advance(TimeSpan.FromSeconds(0.9));
        var sent = Enumerable.Range(0, 5).Select(_ => Enter()).ToList();
        Assert.All(sent, enteredAt => Assert.NotNull(enteredAt));
        _time.Advance(TimeSpan.FromSeconds(0.3));
        foreach (var enteredAt in sent)
        {
            _budget.Complete(enteredAt!.Value, default, refusedSeconds: null);
        }

        _time.Advance(TimeSpan.FromSeconds(0.9));
        Assert.Equal(5, EnterAll());
    }

    [Fact]
    public void TryEnter_TimeReadBeforeAnotherRequestBeganTheWindow_ItsAnswerIsHeardInThatWindow()
    {
        // A 1-second window, spent: it resets by 1 s.
        SpendTheWindow(resetSeconds: 1);

        // One caller read the clock at 0.2 s and stalled; another, at 1.1 s, begins the new window. The first is
        // let through by the new window and counted there: its answer says 8 left (the other is in flight).
        var stale = Start + TimeSpan.FromSeconds(0.2);
        _time.Advance(TimeSpan.FromSeconds(1.1));
        var fresh = Enter();
        var late = Enter(stale);
        Assert.NotNull(fresh);
        Assert.NotNull(late);
        _budget.Complete(late.Value, new RateLimitReading(10, 8, 1), refusedSeconds: null);

        Assert.Equal(7, EnterAll());
    }

    [Fact]
    public void TryEnter_WindowHasRefusedARequest_ItIsNotProbed_TheOthersWaitForTheReset()
    {
        // A 429 that says the user's limit resets in 6 s: between 5 s and 6 s.
        var refused = Enter();
        Assert.NotNull(refused);
        _budget.Complete(refused.Value, new RateLimitReading(10, 0, 6), refusedSeconds: 6);

        // Halfway through that second a probe could be refused too: two 429s in one window.
        _time.Advance(TimeSpan.FromSeconds(5.6));
        var held = Ask(_time.GetUtcNow());
        Assert.False(held.Entered);
        Assert.Equal(Start + TimeSpan.FromSeconds(6), held.Until);

        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.NotNull(Enter());
    }

    [Fact]
    public void TryEnter_GuessedEndPassedWithNoAnswerToConfirmIt_OneRequestGoes_ARefusalHoldsTheRestUntilItsReset()
    {
        // A 2-second window learned late in an 8-second one: the window is guessed to end 2 s after it began.
        GuessTheNextWindow();
        _time.Advance(TimeSpan.FromSeconds(2));

        // Nothing confirmed that guess: the window may not have reset, and one request finds out.
        var alone = Enter();
        Assert.NotNull(alone);
        Assert.Null(Enter());

        // The window had not reset (a 429 whose body says 4 s more): nobody else goes before then, and no probe.
        _budget.Complete(alone.Value, default, refusedSeconds: 4);
        _time.Advance(TimeSpan.FromSeconds(3.9));
        Assert.Null(Enter());
        _time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(10, EnterAll());
    }

    [Fact]
    public void TryEnter_GuessedEndPassedWithNoAnswerToConfirmIt_AnAnsweredRequestIsFollowedByOneMore_NotAWholeWindow()
    {
        GuessTheNextWindow();
        _time.Advance(TimeSpan.FromSeconds(2));
        var alone = Enter();
        Assert.NotNull(alone);

        // Answered without headers and not refused: the window had reset, or it had a call to spare. Nothing says
        // which, so the next request goes alone too.
        _budget.Complete(alone.Value, default, refusedSeconds: null);
        var next = Enter();
        Assert.NotNull(next);
        Assert.Null(Enter());

        // Refused: the reset it names (3 s) starts a window of 10 calls.
        _budget.Complete(next.Value, default, refusedSeconds: 3);
        _time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.Null(Enter());
        _time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(10, EnterAll());
    }

    [Fact]
    public void Complete_CallsAnsweredWithoutAReadingBeforeTheFirstWord_AreTakenOffWhatItSaysIsLeft()
    {
        // Three requests before the server has said anything. Two answers without headers come first; then the
        // one with headers, counted first, says 9 left. The two others were counted after it: 7 are left.
        var first = Enter();
        var second = Enter();
        var third = Enter();
        _budget.Complete(second!.Value, default, refusedSeconds: null);
        _budget.Complete(third!.Value, default, refusedSeconds: null);
        _budget.Complete(first!.Value, new RateLimitReading(10, 9, 8), refusedSeconds: null);

        Assert.Equal(7, EnterAll());
    }

    [Fact]
    public void Complete_AnswersWithReadings_EveryCallOfTheWindowIsUsed()
    {
        // The server's word governs: nothing is held back when every answer states the limit.
        var sent = Enter();
        _budget.Complete(sent!.Value, new RateLimitReading(10, 9, 8), refusedSeconds: null);
        for (var left = 8; left >= 0; left--)
        {
            var next = Enter();
            Assert.NotNull(next);
            _budget.Complete(next.Value, new RateLimitReading(10, left, 8), refusedSeconds: null);
        }

        Assert.Null(Enter());
        _time.Advance(TimeSpan.FromSeconds(8.1));
        Assert.Equal(10, EnterAll());
    }

    public void Dispose() => _budget.Dispose();

    /// <summary>One request at the current time, answered at once with "10 a window, none left, reset in <paramref name="resetSeconds"/> s".</summary>
    private void SpendTheWindow(int resetSeconds)
    {
        var sent = Enter();
        Assert.NotNull(sent);
        _budget.Complete(sent.Value, new RateLimitReading(10, 0, resetSeconds), refusedSeconds: null);
    }

    /// <summary>
    /// Told at 0 s "10 a window, none left, reset in 2 s", the budget lets 10 requests through at 2 s (answered
    /// without headers) and guesses their window ends at 4 s; the clock is left at 2 s.
    /// </summary>
    private void GuessTheNextWindow()
    {
        SpendTheWindow(resetSeconds: 2);
        _time.Advance(TimeSpan.FromSeconds(2));
        var sent = new List<DateTimeOffset>();
        while (sent.Count < 100 && Enter() is { } entered)
        {
            sent.Add(entered);
        }

        Assert.Equal(10, sent.Count);
        foreach (var enteredAt in sent)
        {
            _budget.Complete(enteredAt, default, refusedSeconds: null);
        }
    }

    /// <summary>Lets requests through at the current time until one is held; says how many went (they stay in flight).</summary>
    private int EnterAll()
    {
        var count = 0;
        while (count < 100 && Enter() is not null)
        {
            count++;
        }

        return count;
    }

    private DateTimeOffset? Enter() => Enter(_time.GetUtcNow());

    /// <summary>The time the budget entered a request that asked at <paramref name="now"/>, or null when it held it.</summary>
    private DateTimeOffset? Enter(DateTimeOffset now) => Ask(now) is { Entered: true } entry ? entry.EnteredAt : null;

    /// <summary>Asks the budget to let a request through at <paramref name="now"/>: entered (at when), or held (until when).</summary>
    private (bool Entered, DateTimeOffset EnteredAt, DateTimeOffset? Until) Ask(DateTimeOffset now)
    {
        var entry = _budget.TryEnter(now);
        return (entry.Entered, entry.EnteredAt, entry.Hold.Until);
    }
}
