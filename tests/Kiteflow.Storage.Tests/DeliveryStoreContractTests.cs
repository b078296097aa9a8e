using Kiteflow.Delivery.Ledger;

namespace Kiteflow.Storage.Tests;

/// <summary>
/// The delivery side of the store contract: ledger, progress (cursor and claims), runs, and records not delivered
/// with their retries. Every store runs it through a subclass that opens a fresh store.
/// </summary>
public abstract class DeliveryStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);

    protected IKiteflowStore Store { get; private set; } = null!;

    private IDeliveryStore Delivery => Store.Delivery;

    /// <summary>A new, empty store (not migrated yet).</summary>
    protected abstract Task<IKiteflowStore> CreateStoreAsync();

    /// <summary>The same store opened again, as after a restart.</summary>
    protected abstract Task<IKiteflowStore> ReopenAsync();

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync(CancellationToken.None);
    }

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    [Fact]
    public async Task Ledger_WritesReadsAndCounts_DurableAcrossAReopen()
    {
        await Delivery.Ledger.WriteAsync(Entry("d1", 10, BatchState.InFlight, [10, 11]), durable: true, CancellationToken.None);
        await Delivery.Ledger.WriteAsync(Entry("d1", 12, BatchState.Pending, [12]), durable: false, CancellationToken.None);
        await Delivery.Ledger.WriteAllAsync([Entry("d1", 10, BatchState.Delivered, [10, 11]) with { Status = 201 }, Entry("d2", 10, BatchState.Rejected, [10])], CancellationToken.None);

        await Store.DisposeAsync();
        Store = await ReopenAsync();

        var entry = await Store.Delivery.Ledger.FindAsync("d1", 10, CancellationToken.None);
        Assert.Equal((BatchState.Delivered, 201), (entry!.State, entry.Status));
        Assert.Equal([10L, 11L], entry.Positions);
        Assert.Equal(2, await Store.Delivery.Ledger.CountAsync("d1", CancellationToken.None));
        Assert.Null(await Store.Delivery.Ledger.FindAsync("d1", 11, CancellationToken.None));
    }

    [Fact]
    public async Task Ledger_RestartForgetsRejected_AndResendingEverythingStartsANewGeneration()
    {
        await Delivery.Ledger.WriteAllAsync([Entry("r", 0, BatchState.Delivered, [0]), Entry("r", 1, BatchState.Rejected, [1]), Entry("r", 2, BatchState.PossiblyDelivered, [2])], CancellationToken.None);

        Assert.Equal(2, await Delivery.Ledger.RestartAsync("r", resendDelivered: false, lookUpPossiblyDelivered: true, CancellationToken.None));
        Assert.Null(await Delivery.Ledger.FindAsync("r", 1, CancellationToken.None));
        Assert.Equal(BatchState.InFlight, (await Delivery.Ledger.FindAsync("r", 2, CancellationToken.None))!.State);

        Assert.Equal(0, await Delivery.Ledger.GenerationAsync("r", CancellationToken.None));
        await Delivery.Ledger.RestartAsync("r", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None);
        Assert.Equal(1, await Delivery.Ledger.GenerationAsync("r", CancellationToken.None));
        Assert.Equal(0, await Delivery.Ledger.CountAsync("r", CancellationToken.None));
    }

    [Fact]
    public async Task Progress_ClaimThenFinish_MovesTheCursor_AndAddsTheCounts()
    {
        var fresh = await Delivery.GetProgressAsync(7, CancellationToken.None);
        Assert.Equal((0L, (long?)null), (fresh.Cursor, fresh.ClaimFrom));

        await Delivery.StartRunAsync(7, cursor: 5, "activate", At, null, CancellationToken.None);
        var claimed = await Delivery.ClaimAsync(7, 5, 9, "{\"url\":\"v1\"}", At, null, CancellationToken.None);
        Assert.Equal((5L, (long?)5, (long?)9, "{\"url\":\"v1\"}"), (claimed.Cursor, claimed.ClaimFrom, claimed.ClaimTo, claimed.ClaimSettings));

        // Another claim while one is open is refused: a destination delivers one stretch at a time.
        await Assert.ThrowsAsync<StoreConflictException>(() => Delivery.ClaimAsync(7, 9, 12, "{}", At, null, CancellationToken.None));

        // A pause part-way adds what was done but keeps the claim: the same stretch is resumed.
        var paused = await Delivery.FinishAsync(7, new DeliveryCounts(2, 0, 0, 2, 0, 0), finishedTo: null, At, null, CancellationToken.None);
        Assert.Equal((5L, (long?)5, 2L), (paused.Cursor, paused.ClaimFrom, paused.Totals.Delivered));

        var done = await Delivery.FinishAsync(7, new DeliveryCounts(1, 1, 0, 3, 1, 1, "422 Validation Failed"), finishedTo: 9, At, null, CancellationToken.None);
        Assert.Equal((9L, (long?)null, (string?)null), (done.Cursor, done.ClaimFrom, done.ClaimSettings));
        Assert.Equal(new DeliveryCounts(3, 1, 0, 5, 1, 1), done.Totals);
        Assert.Equal("422 Validation Failed", done.LastError);

        var run = Assert.Single(await Delivery.ListRunsAsync(7, 10, CancellationToken.None));
        Assert.Equal(("activate", 3L, 5L, (DateTimeOffset?)null), (run.Reason, run.Counts.Delivered, run.Counts.Requests, run.EndedAt));
    }

    [Fact]
    public async Task StartRun_SetsTheStartingPointOnlyOnce()
    {
        await Delivery.StartRunAsync(3, cursor: 100, "activate", At, null, CancellationToken.None);
        await Delivery.ClaimAsync(3, 100, 110, "{}", At, null, CancellationToken.None);
        await Delivery.FinishAsync(3, new DeliveryCounts(10, 0, 0, 10, 0, 0), 110, At, null, CancellationToken.None);
        await Delivery.EndRunAsync(3, "pause", At, null, CancellationToken.None);

        var resumed = await Delivery.StartRunAsync(3, cursor: 0, "resume", At.AddMinutes(1), null, CancellationToken.None);

        Assert.Equal(110, resumed.Cursor);
        var runs = await Delivery.ListRunsAsync(3, 10, CancellationToken.None);
        Assert.Equal(["resume", "activate"], runs.Select(r => r.Reason));
        Assert.Equal("pause", runs[1].EndReason);
        Assert.Null(runs[0].EndedAt);
    }

    [Fact]
    public async Task Rejected_OneRowPerRecord_RetriedRecordsDeliveredAreRemoved_FailuresStay()
    {
        await Delivery.PutRejectedAsync(4, [Rejected(1, "validate"), Rejected(2, "http"), Rejected(3, "http", possibly: true)], null, CancellationToken.None);
        await Delivery.PutRejectedAsync(4, [Rejected(2, "http") with { Message = "again" }], null, CancellationToken.None);

        var page = await Delivery.ListRejectedAsync(4, -1, 2, CancellationToken.None);
        Assert.Equal([1L, 2L], page.Items.Select(r => r.Offset));
        Assert.Equal("again", page.Items[1].Message);
        Assert.Equal([3L], (await Delivery.ListRejectedAsync(4, page.Next!.Value, 2, CancellationToken.None)).Items.Select(r => r.Offset));

        // Possibly delivered records are retried only when asked for.
        Assert.Equal((2L, 1L), await Delivery.CountRejectedAsync(4, CancellationToken.None));
        var marked = await Delivery.BeginRetryAsync(4, offsets: null, includePossiblyDelivered: false, At, CancellationToken.None);
        Assert.Equal([1L, 2L], marked);
        var progress = await Delivery.GetProgressAsync(4, CancellationToken.None);
        Assert.Equal(1, progress.RetryGeneration);
        Assert.Equal([1L, 2L], await Delivery.RetryingAsync(4, 1, CancellationToken.None));
        await Assert.ThrowsAsync<StoreConflictException>(() => Delivery.BeginRetryAsync(4, null, false, At, CancellationToken.None));

        // Record 2 fails again during the retry: its row is written afresh and outlives the retry.
        await Delivery.PutRejectedAsync(4, [Rejected(2, "http") with { Message = "still refused" }], null, CancellationToken.None);
        var before = (await Delivery.GetProgressAsync(4, CancellationToken.None)).Totals;
        await Delivery.EndRetryAsync(4, 1, new DeliveryCounts(1, 1, 0, 3, 1, 0), At, null, CancellationToken.None);

        var left = await Delivery.ListRejectedAsync(4, -1, 10, CancellationToken.None);
        Assert.Equal([2L, 3L], left.Items.Select(r => r.Offset));
        Assert.Equal("still refused", left.Items[0].Message);
        var ended = await Delivery.GetProgressAsync(4, CancellationToken.None);
        Assert.Equal(0, ended.RetryGeneration);

        // What the retry did is counted in the same transaction that ends it.
        Assert.Equal((before.Delivered + 1, before.Requests + 3), (ended.Totals.Delivered, ended.Totals.Requests));
        Assert.Equal([3L], await Delivery.BeginRetryAsync(4, [3], includePossiblyDelivered: true, At, CancellationToken.None));
        Assert.Equal(2, (await Delivery.GetProgressAsync(4, CancellationToken.None)).LastRetryGeneration);
    }

    [Fact]
    public async Task StartRun_WhileARunIsOpen_EndsItAsSuperseded()
    {
        await Delivery.StartRunAsync(5, cursor: null, "activate", At, null, CancellationToken.None);
        var second = await Delivery.StartRunAsync(5, cursor: null, "restart", At.AddMinutes(1), null, CancellationToken.None);

        var runs = await Delivery.ListRunsAsync(5, 10, CancellationToken.None);
        Assert.Equal([("restart", (string?)null), ("activate", "superseded")], runs.Select(r => (r.Reason, r.EndReason)));
        Assert.Equal(runs[0].Id, second.RunId);

        await Delivery.EndRunAsync(5, "pause", At.AddMinutes(2), null, CancellationToken.None);
        Assert.Null((await Delivery.GetProgressAsync(5, CancellationToken.None)).RunId);
        Assert.Equal("pause", (await Delivery.ListRunsAsync(5, 1, CancellationToken.None))[0].EndReason);
    }

    [Fact]
    public async Task Claim_ManyClaimersOfOneDestinationAtOnce_EachStretchIsClaimedByOne()
    {
        const int claimers = 4, stretches = 40;
        var claimed = new System.Collections.Concurrent.ConcurrentBag<(int Claimer, long From)>();
        var refused = 0;

        // Every claimer tries every stretch: whoever comes first claims and finishes it, every other is refused, late or not.
        await Task.WhenAll(Enumerable.Range(0, claimers).Select(c => Task.Run(async () =>
        {
            for (long from = 0; from < stretches; from++)
            {
                try
                {
                    await Delivery.ClaimAsync(8, from, from + 1, "{}", At, null, CancellationToken.None);
                    claimed.Add((c, from));
                    await Delivery.FinishAsync(8, new DeliveryCounts(1, 0, 0, 1, 0, 0), from + 1, At, null, CancellationToken.None);
                }
                catch (StoreConflictException)
                {
                    Interlocked.Increment(ref refused);
                    while ((await Delivery.GetProgressAsync(8, CancellationToken.None)).Cursor <= from)
                    {
                        await Task.Yield();
                    }
                }
            }
        })));

        Assert.Equal(Enumerable.Range(0, stretches).Select(i => (long)i), claimed.Select(c => c.From).Order());
        Assert.Equal((claimers - 1) * stretches, refused);
        var progress = await Delivery.GetProgressAsync(8, CancellationToken.None);
        Assert.Equal((stretches, (long?)null, (long)stretches), (progress.Cursor, progress.ClaimFrom, progress.Totals.Delivered));
    }

    [Fact]
    public async Task Ledger_ManyWritesWithoutWaiting_AreAppliedInOrder_TheLastOfEachBatchWins()
    {
        // Each batch goes pending, in flight, then settled, without waiting, as a run's writes do; then a flush.
        for (var first = 0; first < 300; first++)
        {
            await Delivery.Ledger.WriteAsync(Entry("order", first, BatchState.Pending, [first]), durable: false, CancellationToken.None);
            await Delivery.Ledger.WriteAsync(Entry("order", first, BatchState.InFlight, [first]) with { Attempts = 2 }, durable: false, CancellationToken.None);
            var settled = first % 3 == 0 ? BatchState.Rejected : BatchState.Delivered;
            await Delivery.Ledger.WriteAsync(Entry("order", first, settled, [first, first + 1000]) with { Attempts = 3, Status = settled == BatchState.Rejected ? 422 : 201 }, durable: false, CancellationToken.None);
        }

        await Delivery.Ledger.FlushAsync(CancellationToken.None);

        Assert.Equal(300, await Delivery.Ledger.CountAsync("order", CancellationToken.None));
        foreach (var first in new[] { 0, 1, 2, 150, 299 })
        {
            var entry = (await Delivery.Ledger.FindAsync("order", first, CancellationToken.None))!;
            Assert.Equal((first % 3 == 0 ? BatchState.Rejected : BatchState.Delivered, 3, first % 3 == 0 ? 422 : 201), (entry.State, entry.Attempts, entry.Status));
            Assert.Equal([first, first + 1000L], entry.Positions);
        }
    }

    [Fact]
    public async Task Ledger_Generation_CountsOnlyTheRunsOwnRestarts_WhateverTheOtherRunsAreCalled()
    {
        string[] runs = ["d1", "d1.r1", "d10", "D1", "d1 "];
        foreach (var run in runs)
        {
            await Delivery.Ledger.WriteAsync(Entry(run, 0, BatchState.Delivered, [0]), durable: true, CancellationToken.None);
        }

        await Delivery.Ledger.RestartAsync("d1", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None);
        await Delivery.Ledger.RestartAsync("d1", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None);
        await Delivery.Ledger.RestartAsync("d1.r1", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None);
        await Delivery.Ledger.RestartAsync("d10", resendDelivered: true, lookUpPossiblyDelivered: false, CancellationToken.None);

        var generations = await Task.WhenAll(runs.Select(r => Delivery.Ledger.GenerationAsync(r, CancellationToken.None)));
        var counts = await Task.WhenAll(runs.Select(r => Delivery.Ledger.CountAsync(r, CancellationToken.None)));
        Assert.Equal(new[] { 2, 1, 1, 0, 0 }, generations);
        Assert.Equal(new[] { 0L, 0L, 0L, 1L, 1L }, counts);
    }

    [Fact]
    public async Task Text_WithANulCharacter_IsKeptWithTheRestOfIt()
    {
        // Buildkite's answer (or a proxy's) may carry U+0000, which some databases cannot hold as text: the write must
        // not fail, and the rest of the text must stay.
        const string response = "<html>\0bad gateway</html>";
        await Delivery.PutRejectedAsync(6, [Rejected(1, "http") with { Response = response, Message = "refused\0" }], null, CancellationToken.None);
        await Delivery.Ledger.WriteAsync(Entry("nul", 1, BatchState.Rejected, [1]) with { Response = response }, durable: true, CancellationToken.None);
        await Delivery.FinishAsync(6, DeliveryCounts.Zero with { LastError = "502\0" }, null, At, null, CancellationToken.None);

        var row = Assert.Single((await Delivery.ListRejectedAsync(6, -1, 10, CancellationToken.None)).Items);
        Assert.Contains(row.Response, KeptOrReplaced(response));
        Assert.Contains(row.Message, KeptOrReplaced("refused\0"));
        Assert.Contains((await Delivery.Ledger.FindAsync("nul", 1, CancellationToken.None))!.Response, KeptOrReplaced(response));
        Assert.Contains((await Delivery.GetProgressAsync(6, CancellationToken.None)).LastError, KeptOrReplaced("502\0"));
    }

    [Fact]
    public async Task Fence_AfterAnotherWriterAcquires_EveryWriteOfTheOldOneIsRefused_AndChangesNothing()
    {
        var old = await Delivery.AcquireAsync(21, TimeSpan.FromSeconds(10), At, CancellationToken.None);
        await Delivery.StartRunAsync(21, cursor: 0, "activate", At, old, CancellationToken.None);
        await Delivery.ClaimAsync(21, 0, 4, "{}", At, old, CancellationToken.None);
        var oldLedger = Delivery.FencedLedger(old);
        await oldLedger.WriteAsync(Entry("d21", 0, BatchState.InFlight, [0, 1]), durable: true, CancellationToken.None);

        // Another writer takes the destination over (a silo declared dead, whose process was only paused).
        var next = await Delivery.AcquireAsync(21, TimeSpan.FromSeconds(10), At.AddSeconds(1), CancellationToken.None);
        Assert.Equal(old.Epoch + 1, next.Epoch);
        Assert.True(next.PreviousLeaseLeft > TimeSpan.Zero, "the old writer's lease had not run out");

        var before = await Delivery.GetProgressAsync(21, CancellationToken.None);
        Task[] stale =
        [
            oldLedger.WriteAsync(Entry("d21", 0, BatchState.Delivered, [0, 1]) with { Status = 201 }, durable: true, CancellationToken.None),
            oldLedger.WriteAllAsync([Entry("d21", 2, BatchState.Delivered, [2, 3])], CancellationToken.None),
            Delivery.FinishAsync(21, new DeliveryCounts(4, 0, 0, 2, 0, 0), finishedTo: 4, At, old, CancellationToken.None),
            Delivery.ClaimAsync(21, 0, 2, "{}", At, old, CancellationToken.None),
            Delivery.PutRejectedAsync(21, [Rejected(3, "http")], old, CancellationToken.None),
            Delivery.StartRunAsync(21, cursor: null, "restart", At, old, CancellationToken.None),
            Delivery.EndRunAsync(21, "pause", At, old, CancellationToken.None),
            Delivery.EndRetryAsync(21, 1, new DeliveryCounts(1, 0, 0, 1, 0, 0), At, old, CancellationToken.None),
        ];
        foreach (var write in stale)
        {
            var refused = await Assert.ThrowsAsync<StoreConflictException>(() => write);
            Assert.Equal(StoreConflict.Fenced, refused.Conflict);
        }

        Assert.False(await Delivery.RenewAsync(old, TimeSpan.FromSeconds(10), At, CancellationToken.None));
        var after = await Delivery.GetProgressAsync(21, CancellationToken.None);
        Assert.Equal((before.Cursor, before.ClaimFrom, before.ClaimTo, before.Totals, before.RunId), (after.Cursor, after.ClaimFrom, after.ClaimTo, after.Totals, after.RunId));
        Assert.Equal(BatchState.InFlight, (await Delivery.Ledger.FindAsync("d21", 0, CancellationToken.None))!.State);
        Assert.Null(await Delivery.Ledger.FindAsync("d21", 2, CancellationToken.None));
        Assert.Equal((0L, 0L), await Delivery.CountRejectedAsync(21, CancellationToken.None));

        // The new writer goes on where the store says.
        var newLedger = Delivery.FencedLedger(next);
        await newLedger.WriteAsync(Entry("d21", 0, BatchState.Delivered, [0, 1]), durable: true, CancellationToken.None);
        var finished = await Delivery.FinishAsync(21, new DeliveryCounts(4, 0, 0, 2, 0, 0), finishedTo: 4, At, next, CancellationToken.None);
        Assert.Equal((4L, (long?)null), (finished.Cursor, finished.ClaimFrom));
        Assert.True(await Delivery.RenewAsync(next, TimeSpan.FromSeconds(10), At, CancellationToken.None));
    }

    [Fact]
    public async Task Fence_AWriteNobodyWaitedFor_IsRefusedAndReportedByTheStaleWritersFlush_NotByAnotherWriters()
    {
        var a = await Delivery.AcquireAsync(22, TimeSpan.FromSeconds(10), At, CancellationToken.None);
        var b = await Delivery.AcquireAsync(23, TimeSpan.FromSeconds(10), At, CancellationToken.None);
        var staleLedger = Delivery.FencedLedger(a);
        var otherLedger = Delivery.FencedLedger(b);
        await Delivery.AcquireAsync(22, TimeSpan.FromSeconds(10), At, CancellationToken.None);

        await staleLedger.WriteAsync(Entry("d22", 0, BatchState.Delivered, [0]), durable: false, CancellationToken.None);
        await otherLedger.WriteAsync(Entry("d23", 0, BatchState.Delivered, [0]), durable: false, CancellationToken.None);
        await Delivery.Ledger.WriteAsync(Entry("unfenced", 0, BatchState.Delivered, [0]), durable: false, CancellationToken.None);

        await otherLedger.FlushAsync(CancellationToken.None);
        await Delivery.Ledger.FlushAsync(CancellationToken.None);
        var refused = await Assert.ThrowsAsync<StoreConflictException>(() => staleLedger.FlushAsync(CancellationToken.None));
        Assert.Equal(StoreConflict.Fenced, refused.Conflict);
        Assert.Null(await Delivery.Ledger.FindAsync("d22", 0, CancellationToken.None));
        Assert.NotNull(await Delivery.Ledger.FindAsync("d23", 0, CancellationToken.None));
        Assert.NotNull(await Delivery.Ledger.FindAsync("unfenced", 0, CancellationToken.None));
    }

    [Fact]
    public async Task Fence_ReleasedLease_LetsTheNextWriterStartAtOnce()
    {
        var first = await Delivery.AcquireAsync(24, TimeSpan.FromSeconds(30), At, CancellationToken.None);
        await Delivery.ReleaseAsync(first, At, CancellationToken.None);
        var second = await Delivery.AcquireAsync(24, TimeSpan.FromSeconds(30), At, CancellationToken.None);
        Assert.Equal((first.Epoch + 1, TimeSpan.Zero), (second.Epoch, second.PreviousLeaseLeft));

        // Releasing a stale fence changes nothing: the holder's lease still runs.
        await Delivery.ReleaseAsync(first, At, CancellationToken.None);
        var third = await Delivery.AcquireAsync(24, TimeSpan.FromSeconds(30), At, CancellationToken.None);
        Assert.True(third.PreviousLeaseLeft > TimeSpan.Zero);
    }

    private static LedgerEntry Entry(string run, long first, BatchState state, long[] positions) => new()
    {
        Run = run,
        FirstPosition = first,
        Positions = positions,
        State = state,
        Attempts = 1,
        DeliveryId = $"kf-{first}",
        UpdatedAt = At,
    };

    private static string[] KeptOrReplaced(string text) => [text, text.Replace('\0', '\uFFFD')];

    private static NewRejectedRecord Rejected(long offset, string stage, bool possibly = false) =>
        new(offset, stage, $"{stage} problem", stage == "http" ? 422 : null, stage == "http" ? """{"message":"Validation Failed"}""" : null, possibly, Retryable: false, At);
}
