using System.Collections.Concurrent;

namespace Kiteflow.Delivery.Ledger;

/// <summary>
/// The batches a run marked in flight ahead of sending (a chunk per durable write) whose request has not left
/// the process yet. A sender takes a batch's claim just before its first attempt goes; whatever is still here
/// when the run ends — stopped, or failed — was provably never sent, and is given back (written as it was
/// before the claim), so the next run neither looks it up nor counts it possibly delivered.
/// </summary>
internal sealed class ClaimBook
{
    private readonly ConcurrentDictionary<long, LedgerEntry> _unsent = new();

    /// <summary>Notes a claim; <paramref name="release"/> is the entry that gives it back.</summary>
    public void Add(long firstPosition, LedgerEntry release) => _unsent[firstPosition] = release;

    /// <summary>Takes the claim of the batch at <paramref name="firstPosition"/>; false when it has none.</summary>
    public bool TryTake(long firstPosition) => _unsent.TryRemove(firstPosition, out _);

    /// <summary>Removes and returns every claim never taken, in the order of their batches.</summary>
    public List<LedgerEntry> TakeAll()
    {
        var released = new List<LedgerEntry>();
        foreach (var position in _unsent.Keys.Order())
        {
            if (_unsent.TryRemove(position, out var entry))
            {
                released.Add(entry);
            }
        }

        return released;
    }
}
