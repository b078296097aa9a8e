namespace Kiteflow.Storage;

/// <summary>What one append writes, in one transaction.</summary>
public sealed class RecordBatch
{
    /// <summary>The records' JSON text (UTF-8, one object each, no line breaks), in order.</summary>
    public required IReadOnlyList<ReadOnlyMemory<byte>> Records { get; init; }

    /// <summary>How the schema grows with these records (merged into the stored schema); null to leave it.</summary>
    public SchemaDelta? Schema { get; init; }

    /// <summary>Items of the same input that could not be read, kept with their lines.</summary>
    public IReadOnlyList<NewReadRejection> Rejections { get; init; } = [];

    /// <summary>Makes the append happen at most once per dataset: a repeat returns the first result.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Kept with the idempotency key and returned on a repeat (e.g. the answer the client got), or null.</summary>
    public string? IdempotentResponse { get; init; }

    /// <summary>When the records arrived.</summary>
    public required DateTimeOffset At { get; init; }
}
