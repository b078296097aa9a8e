using Kiteflow.Delivery.Ledger;

namespace Kiteflow.Storage;

/// <summary>
/// The delivery side of the store: each destination's ledger, its progress through its dataset (a cursor and
/// the stretch it has claimed), its totals and runs, and the records it did not deliver. Every change is one
/// transaction, durable when it returns.
/// </summary>
/// <remarks>
/// A destination delivers its dataset a stretch at a time: <see cref="ClaimAsync"/> durably names the stretch
/// [from, to) before any of it is sent, so a process that dies mid-stretch resumes exactly that stretch (the
/// same records, planned into the same batches, named by the same positions in the ledger), and
/// <see cref="FinishAsync"/> moves the cursor past it once every record of it is settled.
/// <para>
/// One writer per destination: a process that delivers a destination first acquires it (<see cref="AcquireAsync"/>),
/// and every write it makes for the destination — progress, runs, records not delivered and, through
/// <see cref="FencedLedger(DeliveryFence)"/>, the ledger — carries the <see cref="DeliveryFence"/> it got, checked in
/// the write's own transaction: once another process acquired the destination (a silo declared dead while it was only
/// paused, say), the old writer's writes fail with <see cref="StoreConflict.Fenced"/> and change nothing. A null fence
/// skips the check (the API's own changes, such as a retry's marks, and tools).
/// </para>
/// </remarks>
public interface IDeliveryStore
{
    /// <summary>Every destination's batches, in one ledger; a destination's runs are named <c>d{id}</c> (and <c>d{id}.r{n}</c> for retries).</summary>
    IDeliveryLedger Ledger { get; }

    /// <summary>
    /// Makes the caller the destination's only writer: its epoch grows by one (so every fence handed out before is stale)
    /// and a lease of <paramref name="lease"/> starts. The fence says how much of the previous writer's lease was left.
    /// PostgreSQL times leases by its own clock (processes on several machines); SQLite by <paramref name="at"/>.
    /// </summary>
    Task<DeliveryFence> AcquireAsync(long destinationId, TimeSpan lease, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Extends the lease of the writer holding <paramref name="fence"/> to <paramref name="lease"/> from now; false when the fence is stale.</summary>
    Task<bool> RenewAsync(DeliveryFence fence, TimeSpan lease, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Ends the lease of the writer holding <paramref name="fence"/> (a graceful stop), so the next writer need not wait for it; nothing when stale.</summary>
    Task ReleaseAsync(DeliveryFence fence, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The ledger for the writer holding <paramref name="fence"/>: its writes are refused once the fence is stale.</summary>
    IDeliveryLedger FencedLedger(DeliveryFence fence);

    /// <summary>Where the destination stands; a fresh, empty progress when it never ran.</summary>
    Task<DestinationProgress> GetProgressAsync(long destinationId, CancellationToken cancellationToken);

    /// <summary>The progress of every destination that has any, by destination id.</summary>
    Task<IReadOnlyList<DestinationProgress>> ListProgressAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Begins a run of the destination (activation, resume, or a restart of the process): opens a run row and,
    /// when <paramref name="cursor"/> is given and the destination never claimed anything, sets where it starts
    /// (0: every record; the dataset's count: only records appended from now on).
    /// </summary>
    Task<DestinationProgress> StartRunAsync(long destinationId, long? cursor, string reason, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken);

    /// <summary>Ends the destination's open run, if any.</summary>
    Task EndRunAsync(long destinationId, string reason, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken);

    /// <summary>
    /// Durably claims the records [<paramref name="from"/>, <paramref name="to"/>) for delivery with the settings
    /// <paramref name="settingsJson"/>: a stretch is finished with the settings it was claimed with, even when the
    /// destination's settings change while it is paused, so its batches are planned the same way every time.
    /// </summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.VersionMismatch"/>: another stretch is claimed and unfinished, or <paramref name="from"/> is not the cursor.</exception>
    Task<DestinationProgress> ClaimAsync(long destinationId, long from, long to, string settingsJson, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken);

    /// <summary>How many of the destination's records are not delivered now: rejected, and possibly delivered.</summary>
    Task<(long Rejected, long PossiblyDelivered)> CountRejectedAsync(long destinationId, CancellationToken cancellationToken);

    /// <summary>
    /// Adds what a delivery did to the destination's totals and its open run, and — when
    /// <paramref name="finishedTo"/> is given — moves the cursor there and clears the claim.
    /// </summary>
    Task<DestinationProgress> FinishAsync(long destinationId, DeliveryCounts counts, long? finishedTo, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken);

    /// <summary>The destination's runs, newest first.</summary>
    Task<IReadOnlyList<DeliveryRunRow>> ListRunsAsync(long destinationId, int limit, CancellationToken cancellationToken);

    /// <summary>Records the destination did not deliver; a record's row is replaced when it fails again (one row per record).</summary>
    Task PutRejectedAsync(long destinationId, IReadOnlyList<NewRejectedRecord> records, DeliveryFence? fence, CancellationToken cancellationToken);

    /// <summary>The destination's records not delivered, by offset, from offset <paramref name="afterOffset"/> (exclusive).</summary>
    Task<Page<RejectedRecordRow>> ListRejectedAsync(long destinationId, long afterOffset, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Marks records for a retry (all of them when <paramref name="offsets"/> is null), those
    /// <paramref name="includePossiblyDelivered"/> allows, under a new retry generation that the destination's
    /// progress now names; returns the offsets marked.
    /// </summary>
    Task<IReadOnlyList<long>> BeginRetryAsync(long destinationId, IReadOnlyList<long>? offsets, bool includePossiblyDelivered, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The offsets a retry generation is sending again.</summary>
    Task<IReadOnlyList<long>> RetryingAsync(long destinationId, int generation, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a retry that went through all its records, in one transaction: what it did (<paramref name="counts"/>) is
    /// added to the totals and the open run, rows still marked by it (their records were delivered this time) are
    /// removed, and the progress names no retry. One transaction, so that a crash never leaves the counts added and the
    /// retry open: the retry run again would count its records a second time.
    /// </summary>
    Task EndRetryAsync(long destinationId, int generation, DeliveryCounts counts, DateTimeOffset at, DeliveryFence? fence, CancellationToken cancellationToken);
}
