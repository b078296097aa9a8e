namespace Kiteflow.Delivery.Ledger;

/// <summary>
/// The durable record of every batch's state, written around each call so that a run killed at any
/// instant resumes without sending twice. Implementations must be safe for concurrent callers.
/// </summary>
public interface IDeliveryLedger : IAsyncDisposable
{
    /// <summary>How many batches the run has recorded (0: a fresh run, nothing to look up).</summary>
    Task<long> CountAsync(string run, CancellationToken cancellationToken);

    /// <summary>The batch whose first record is at <paramref name="firstPosition"/>, or null.</summary>
    Task<LedgerEntry?> FindAsync(string run, long firstPosition, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the entry (replacing the batch's earlier one). With <paramref name="durable"/> the call
    /// returns only once the entry is on disk; otherwise it may be written with later entries, and is
    /// on disk after <see cref="FlushAsync"/> or disposal.
    /// </summary>
    Task WriteAsync(LedgerEntry entry, bool durable, CancellationToken cancellationToken);

    /// <summary>Writes several entries at once and returns once all of them are on disk.</summary>
    Task WriteAllAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken);

    /// <summary>Waits until every entry written so far is on disk.</summary>
    Task FlushAsync(CancellationToken cancellationToken);

    /// <summary>
    /// How many times <paramref name="run"/> was restarted with every record sent again
    /// (<see cref="RestartAsync"/> with <c>resendDelivered</c>): the generation its delivery ids carry, 0 at first.
    /// </summary>
    Task<int> GenerationAsync(string run, CancellationToken cancellationToken);

    /// <summary>
    /// Prepares <paramref name="run"/> to be sent again on purpose. Without <paramref name="resendDelivered"/>:
    /// rejected batches are forgotten (sent again as new) and possibly delivered ones reopened — in flight when
    /// <paramref name="lookUpPossiblyDelivered"/> (a create-build is then looked up before it is sent), else
    /// pending; delivered and in-flight batches stay as they are. With <paramref name="resendDelivered"/>: every
    /// entry of the run is moved aside into the history (kept, no longer read) and the run's generation grows by one.
    /// </summary>
    /// <returns>How many batches were reopened or moved aside.</returns>
    Task<long> RestartAsync(string run, bool resendDelivered, bool lookUpPossiblyDelivered, CancellationToken cancellationToken);
}
