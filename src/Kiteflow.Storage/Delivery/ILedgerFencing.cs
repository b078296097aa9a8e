using Kiteflow.Delivery.Ledger;

namespace Kiteflow.Storage;

/// <summary>A store's ledger that can write entries only while their writer's fence is current (see <see cref="FencedLedger"/>).</summary>
public interface ILedgerFencing
{
    /// <summary>
    /// Writes <paramref name="entries"/> in the ledger's order, in one transaction with a check that
    /// <paramref name="fence"/> still holds the destination. The task ends once the entries are committed, or fails —
    /// with <see cref="StoreConflict.Fenced"/> when the fence is stale; a failure is this write's alone.
    /// </summary>
    Task WriteFencedAsync(IReadOnlyList<LedgerEntry> entries, DeliveryFence fence);
}
