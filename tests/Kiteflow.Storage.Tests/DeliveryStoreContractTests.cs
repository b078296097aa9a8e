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

        await Delivery.StartRunAsync(7, cursor: 5, "activate", At, CancellationToken.None);
        var claimed = await Delivery.ClaimAsync(7, 5, 9, "{\"url\":\"v1\"}", At, CancellationToken.None);
        Assert.Equal((5L, (long?)5, (long?)9, "{\"url\":\"v1\"}"), (claimed.Cursor, claimed.ClaimFrom, claimed.ClaimTo, claimed.ClaimSettings));

        // Another claim while one is open is refused: a destination delivers one stretch at a time.
        await Assert.ThrowsAsync<StoreConflictException>(() => Delivery.ClaimAsync(7, 9, 12, "{}", At, CancellationToken.None));

        // A pause part-way adds what was done but keeps the claim: the same stretch is resumed.
        var paused = await Delivery.FinishAsync(7, new DeliveryCounts(2, 0, 0, 2, 0, 0), finishedTo: null, At, CancellationToken.None);
        Assert.Equal((5L, (long?)5, 2L), (paused.Cursor, paused.ClaimFrom, paused.Totals.Delivered));

        var done = await Delivery.FinishAsync(7, new DeliveryCounts(1, 1, 0, 3, 1, 1, "422 Validation Failed"), finishedTo: 9, At, CancellationToken.None);
        Assert.Equal((9L, (long?)null, (string?)null), (done.Cursor, done.ClaimFrom, done.ClaimSettings));
        Assert.Equal(new DeliveryCounts(3, 1, 0, 5, 1, 1), done.Totals);
        Assert.Equal("422 Validation Failed", done.LastError);

        var run = Assert.Single(await Delivery.ListRunsAsync(7, 10, CancellationToken.None));
        Assert.Equal(("activate", 3L, 5L, (DateTimeOffset?)null), (run.Reason, run.Counts.Delivered, run.Counts.Requests, run.EndedAt));
    }

    [Fact]
    public async Task StartRun_SetsTheStartingPointOnlyOnce()
    {
        await Delivery.StartRunAsync(3, cursor: 100, "activate", At, CancellationToken.None);
        await Delivery.ClaimAsync(3, 100, 110, "{}", At, CancellationToken.None);
        await Delivery.FinishAsync(3, new DeliveryCounts(10, 0, 0, 10, 0, 0), 110, At, CancellationToken.None);
        await Delivery.EndRunAsync(3, "pause", At, CancellationToken.None);

        var resumed = await Delivery.StartRunAsync(3, cursor: 0, "resume", At.AddMinutes(1), CancellationToken.None);

        Assert.Equal(110, resumed.Cursor);
        var runs = await Delivery.ListRunsAsync(3, 10, CancellationToken.None);
        Assert.Equal(["resume", "activate"], runs.Select(r => r.Reason));
        Assert.Equal("pause", runs[1].EndReason);
        Assert.Null(runs[0].EndedAt);
    }

    [Fact]
    public async Task Rejected_OneRowPerRecord_RetriedRecordsDeliveredAreRemoved_FailuresStay()
    {
        await Delivery.PutRejectedAsync(4, [Rejected(1, "validate"), Rejected(2, "http"), Rejected(3, "http", possibly: true)], CancellationToken.None);
        await Delivery.PutRejectedAsync(4, [Rejected(2, "http") with { Message = "again" }], CancellationToken.None);

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
        await Delivery.PutRejectedAsync(4, [Rejected(2, "http") with { Message = "still refused" }], CancellationToken.None);
        await Delivery.EndRetryAsync(4, 1, At, CancellationToken.None);

        var left = await Delivery.ListRejectedAsync(4, -1, 10, CancellationToken.None);
        Assert.Equal([2L, 3L], left.Items.Select(r => r.Offset));
        Assert.Equal("still refused", left.Items[0].Message);
        Assert.Equal(0, (await Delivery.GetProgressAsync(4, CancellationToken.None)).RetryGeneration);
        Assert.Equal([3L], await Delivery.BeginRetryAsync(4, [3], includePossiblyDelivered: true, At, CancellationToken.None));
        Assert.Equal(2, (await Delivery.GetProgressAsync(4, CancellationToken.None)).LastRetryGeneration);
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

    private static NewRejectedRecord Rejected(long offset, string stage, bool possibly = false) =>
        new(offset, stage, $"{stage} problem", stage == "http" ? 422 : null, stage == "http" ? """{"message":"Validation Failed"}""" : null, possibly, Retryable: false, At);
}
