using Kiteflow.Delivery.Ledger;

namespace Kiteflow.Delivery.Sending;

/// <summary>
/// How one planned request ended after every attempt: the state the ledger keeps, and for the records
/// that were not delivered, why. <see cref="Retryable"/> outcomes (gave up on transient failures that
/// provably did not go through) stay pending in the ledger so that running the command again retries
/// them, but count as rejected in this run. <see cref="Stopped"/> outcomes are batches the run was
/// stopped before it settled: pending (nothing reached Buildkite) or in flight (it may have), left for the
/// next run, and counted as neither delivered nor rejected.
/// </summary>
internal sealed record BatchOutcome(BatchState State, AttemptOutcome? Last, string? Message, bool Retryable = false, bool Stopped = false)
{
    /// <summary>The state as this run counts it.</summary>
    public BatchState CountedAs => Stopped ? BatchState.Pending : Retryable ? BatchState.Rejected : State;
}
