using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// A destination worker's hold on its destination: the fence it acquired in the store (every write of the worker
/// carries it) and a lease it renews while it runs. The lease bounds, by this process's own monotonic clock, how long
/// requests may leave after the last renewal the store accepted; a new writer waits out what was left of the previous
/// writer's lease before it sends anything. Once the store refuses a renewal or a write, the lease is lost for good:
/// <see cref="Lost"/> is cancelled and no request leaves any more.
/// </summary>
internal sealed class DestinationLease : IAsyncDisposable
{
    private readonly IDeliveryStore _store;
    private readonly TimeProvider _time;
    private readonly TimeSpan _length;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _ending = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _renewed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _validUntil;
    private Task? _renewing;

    private DestinationLease(IDeliveryStore store, DeliveryFence fence, TimeSpan length, TimeProvider time, ILogger logger, long validUntil)
    {
        _store = store;
        Fence = fence;
        _length = length;
        _time = time;
        _logger = logger;
        _validUntil = validUntil;
    }

    /// <summary>The fence every write of the worker carries.</summary>
    public DeliveryFence Fence { get; }

    /// <summary>Cancelled once another writer holds the destination.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Whether another writer holds the destination.</summary>
    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Why the lease was lost, in one line.</summary>
    public string? LostReason { get; private set; }

    /// <summary>Acquires the destination, waits out the previous writer's lease, and starts renewing.</summary>
    public static async Task<DestinationLease> AcquireAsync(long destinationId, IDeliveryStore store, TimeSpan length, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var asked = time.GetTimestamp();
        var fence = await store.AcquireAsync(destinationId, length, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var lease = new DestinationLease(store, fence, length, time, logger, Deadline(asked, length, time));
        if (fence.PreviousLeaseLeft > TimeSpan.Zero)
        {
            // The previous writer (a silo that died, or that only paused) may send until its lease runs out.
            Log.WaitingForLease(logger, destinationId, fence.PreviousLeaseLeft.TotalMilliseconds);
            lease._renewing = lease.RenewLoopAsync();
            try
            {
                await Task.Delay(fence.PreviousLeaseLeft, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped while it waited: nothing was sent, and the next writer need not wait for this one.
                await lease.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            return lease;
        }

        lease._renewing = lease.RenewLoopAsync();
        return lease;
    }

    /// <summary>Returns at once while the lease is valid; else waits for a renewal; throws once it is lost.</summary>
    public ValueTask WaitUntilValidAsync(CancellationToken cancellationToken)
    {
        if (!IsLost && _time.GetTimestamp() < Interlocked.Read(ref _validUntil))
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(WaitSlowAsync(cancellationToken));
    }

    /// <summary>Gives the lease up: another writer on the destination need not wait for it.</summary>
    public void Lose(string reason)
    {
        if (!IsLost)
        {
            LostReason = reason;
            Log.DestinationFenced(_logger, Fence.DestinationId, reason);
            _lost.Cancel();
        }
    }

    /// <summary>Stops renewing and, unless lost, releases the lease in the store.</summary>
    public async ValueTask DisposeAsync()
    {
        await _ending.CancelAsync().ConfigureAwait(false);
        if (_renewing is { } renewing)
        {
            await renewing.ConfigureAwait(false);
        }

        if (!IsLost)
        {
            try
            {
                await _store.ReleaseAsync(Fence, _time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (StoreException)
            {
                // It runs out by itself.
            }
        }

        _lost.Dispose();
        _ending.Dispose();
    }

    private static long Deadline(long asked, TimeSpan length, TimeProvider time) =>
        // A tenth is kept back for clocks that run at slightly different rates.
        asked + (long)((length - (length / 10)).TotalSeconds * time.TimestampFrequency);

    private async Task WaitSlowAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lost.Token);
        while (true)
        {
            Task renewed;
            lock (_lock)
            {
                renewed = _renewed.Task;
            }

            if (IsLost)
            {
                throw new OperationCanceledException($"destination {Fence.DestinationId} is written by another process now; nothing more is sent from here.", _lost.Token);
            }

            if (_time.GetTimestamp() < Interlocked.Read(ref _validUntil))
            {
                return;
            }

            await renewed.WaitAsync(linked.Token).ConfigureAwait(false);
        }
    }

    private async Task RenewLoopAsync()
    {
        var every = _length / 4;
        while (!_ending.IsCancellationRequested && !IsLost)
        {
            try
            {
                await Task.Delay(every, _time, _ending.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var asked = _time.GetTimestamp();
            try
            {
                if (!await _store.RenewAsync(Fence, _length, _time.GetUtcNow(), _ending.Token).ConfigureAwait(false))
                {
                    Lose("another writer acquired it (its lease could not be renewed)");
                    return;
                }
            }
            catch (OperationCanceledException) when (_ending.IsCancellationRequested)
            {
                return;
            }
            catch (StoreException)
            {
                // The store is unreachable for now: the lease runs down, and requests wait until a renewal goes through.
                continue;
            }

            Interlocked.Exchange(ref _validUntil, Deadline(asked, _length, _time));
            lock (_lock)
            {
                _renewed.TrySetResult();
                _renewed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }
}
