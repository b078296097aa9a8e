using Kiteflow.Delivery.Ledger;

namespace Kiteflow.Delivery.Sending;

/// <summary>
/// How one planned request ended after every attempt: the state the ledger keeps, and for the records
/// that were not delivered, why. <see cref="Retryable"/> outcomes (gave up on transient failures that
/// provably did not go through) stay pending in the ledger so that running the command again retries
/// them, but count as rejected in this run.
/// </summary>
internal sealed record BatchOutcome(BatchState State, AttemptOutcome? Last, string? Message, bool Retryable = false)
{
    /// <summary>The state as this run counts it.</summary>
    public BatchState CountedAs => Retryable ? BatchState.Rejected : State;
}
