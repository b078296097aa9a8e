namespace Kiteflow.Storage;

/// <summary>A dataset as stored.</summary>
public sealed record DatasetRow
{
    /// <summary>The store's id; never reused.</summary>
    public required long Id { get; init; }

    /// <summary>The unique name (a slug).</summary>
    public required string Name { get; init; }

    /// <summary>Where its records come from.</summary>
    public required DatasetSource Source { get; init; }

    /// <summary>How many records it holds: also the offset the next record gets.</summary>
    public required long RecordCount { get; init; }

    /// <summary>How many read rejections its uploads and ingests produced.</summary>
    public required long RejectedCount { get; init; }

    /// <summary>The SHA-256 (hex) of its ingest key; the key itself is never stored.</summary>
    public required string IngestKeyHash { get; init; }

    /// <summary>The first characters of the ingest key, to tell keys apart in lists.</summary>
    public required string IngestKeyPrefix { get; init; }

    /// <summary>Whether ingest requests must carry <c>X-Kiteflow-Signature</c>.</summary>
    public required bool RequireSignature { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When records were last appended; null while it has none.</summary>
    public DateTimeOffset? LastAppendAt { get; init; }
}
