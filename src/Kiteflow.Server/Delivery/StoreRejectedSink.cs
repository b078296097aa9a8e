using System.Collections.Concurrent;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// Keeps a destination's records not delivered in the store (one row per record, by offset), written before the
/// stretch that produced them is finished, so a record is never past the cursor without its row.
/// </summary>
internal sealed class StoreRejectedSink(IDeliveryStore store, long destinationId, DeliveryFence fence, TimeProvider time) : IRejectedSink
{
    private readonly ConcurrentQueue<NewRejectedRecord> _pending = new();

    public void Write(RejectedRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _pending.Enqueue(new NewRejectedRecord(record.Position, record.Stage, record.Message, record.Status, record.Response, record.PossiblyDelivered, record.Retryable, time.GetUtcNow()));
    }

    /// <summary>Writes what was collected, in one transaction.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var rows = new List<NewRejectedRecord>();
        while (_pending.TryDequeue(out var row))
        {
            rows.Add(row);
        }

        await store.PutRejectedAsync(destinationId, rows, fence, cancellationToken).ConfigureAwait(false);
    }
}
