using System.Runtime.ExceptionServices;
using Kiteflow.Delivery.Ledger;

namespace Kiteflow.Storage;

/// <summary>
/// The ledger as one writer of one destination sees it: every write carries the writer's <see cref="DeliveryFence"/>,
/// and is refused once another writer acquired the destination. A refused write that nobody waited for is reported by
/// this view's next flush or durable write (<see cref="StoreConflictException"/>, <see cref="StoreConflict.Fenced"/>),
/// never by another writer's.
/// </summary>
public sealed class FencedLedger : IDeliveryLedger
{
    private readonly IDeliveryLedger _inner;
    private readonly ILedgerFencing _fencing;
    private readonly DeliveryFence _fence;
    private readonly Lock _lock = new();
    private List<Task> _pending = [];
    private ExceptionDispatchInfo? _failure;

    /// <summary>A view of <paramref name="inner"/> (which must also implement <see cref="ILedgerFencing"/>) for the writer holding <paramref name="fence"/>.</summary>
    public FencedLedger(IDeliveryLedger inner, DeliveryFence fence)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(fence);
        _inner = inner;
        _fencing = inner as ILedgerFencing ?? throw new ArgumentException("The ledger cannot check fences.", nameof(inner));
        _fence = fence;
    }

    /// <summary>The fence every write carries.</summary>
    public DeliveryFence Fence => _fence;

    /// <inheritdoc />
    public Task<long> CountAsync(string run, CancellationToken cancellationToken) => _inner.CountAsync(run, cancellationToken);

    /// <inheritdoc />
    public Task<LedgerEntry?> FindAsync(string run, long firstPosition, CancellationToken cancellationToken) => _inner.FindAsync(run, firstPosition, cancellationToken);

    /// <inheritdoc />
    public async Task WriteAsync(LedgerEntry entry, bool durable, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var write = _fencing.WriteFencedAsync([entry], _fence);
        if (durable)
        {
            await write.WaitAsync(cancellationToken).ConfigureAwait(false);
            await SettleAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        lock (_lock)
        {
            if (_pending.Count >= 1_000)
            {
                // Keep only what has not succeeded yet: a failure stays to be reported.
                _pending.RemoveAll(t => t.IsCompletedSuccessfully);
            }

            _pending.Add(write);
        }
    }

    /// <inheritdoc />
    public async Task WriteAllAsync(IReadOnlyList<LedgerEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count > 0)
        {
            await _fencing.WriteFencedAsync(entries, _fence).WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await SettleAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        await SettleAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<int> GenerationAsync(string run, CancellationToken cancellationToken) => _inner.GenerationAsync(run, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Not for a destination's writer: the server restarts nothing this way (its retries have runs of their own).</remarks>
    public Task<long> RestartAsync(string run, bool resendDelivered, bool lookUpPossiblyDelivered, CancellationToken cancellationToken) =>
        throw new NotSupportedException("A fenced ledger does not restart runs.");

    /// <summary>Waits for the writes nobody waited for; the first that failed is thrown (now and by every later call).</summary>
    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        List<Task> pending;
        lock (_lock)
        {
            (pending, _pending) = (_pending, []);
        }

        foreach (var write in pending)
        {
            try
            {
                await write.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!write.IsCanceled && write.IsFaulted)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
        }

        _failure?.Throw();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;  // the store owns the ledger
}
