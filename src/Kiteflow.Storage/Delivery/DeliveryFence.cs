namespace Kiteflow.Storage;

/// <summary>
/// The fencing token of a destination's writer (<see cref="IDeliveryStore.AcquireAsync"/>): the destination's epoch when
/// it was acquired. Every write of the destination that carries it is a compare-and-set on the epoch, so once another
/// writer has acquired the destination, the old one's writes are refused (<see cref="StoreConflict.Fenced"/>).
/// </summary>
/// <param name="DestinationId">The destination.</param>
/// <param name="Epoch">The epoch this writer holds; it grows by one with every acquisition.</param>
public sealed record DeliveryFence(long DestinationId, long Epoch)
{
    /// <summary>
    /// How much of the previous writer's lease was left when this one acquired the destination (zero when it had run
    /// out or been released): until it runs out, the previous writer may still have requests leaving, so the new one
    /// waits that long before it sends anything.
    /// </summary>
    public TimeSpan PreviousLeaseLeft { get; init; }
}
