namespace Kiteflow.Delivery.Ledger;

/// <summary>
/// One batch (one planned request) of one run as the ledger keeps it. A run is one (destination,
/// input) pair, named by <see cref="Kiteflow.Core.Planning.DeliveryIds.RunKey"/>; a batch is named by
/// the position of its first record, which planning reproduces exactly on every run.
/// </summary>
public sealed record LedgerEntry
{
    /// <summary>The run the batch belongs to.</summary>
    public required string Run { get; init; }

    /// <summary>The position of the batch's first record: the batch's name within the run.</summary>
    public required long FirstPosition { get; init; }

    /// <summary>Every record position the batch carries.</summary>
    public required IReadOnlyList<long> Positions { get; init; }

    /// <summary>Where the batch stands.</summary>
    public required BatchState State { get; init; }

    /// <summary>Attempts made so far, over every run.</summary>
    public int Attempts { get; init; }

    /// <summary>The create-build delivery id, when the request carries one.</summary>
    public string? DeliveryId { get; init; }

    /// <summary>The last HTTP status, when there was one.</summary>
    public int? Status { get; init; }

    /// <summary>For rejected and possibly delivered batches: what happened.</summary>
    public string? Message { get; init; }

    /// <summary>For rejected batches: Buildkite's response body.</summary>
    public string? Response { get; init; }

    /// <summary>When the entry was last written.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}
