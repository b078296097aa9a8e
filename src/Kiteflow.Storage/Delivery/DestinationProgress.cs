namespace Kiteflow.Storage;

/// <summary>Where a destination stands in its dataset, and what it has done in all.</summary>
public sealed record DestinationProgress
{
    /// <summary>The destination.</summary>
    public required long DestinationId { get; init; }

    /// <summary>The offset of the first record not yet settled by a finished stretch: everything before it is settled.</summary>
    public long Cursor { get; init; }

    /// <summary>The stretch claimed and not finished, [ClaimFrom, ClaimTo); null when none.</summary>
    public long? ClaimFrom { get; init; }

    /// <summary>The end (exclusive) of the claimed stretch.</summary>
    public long? ClaimTo { get; init; }

    /// <summary>The settings the claimed stretch is delivered with (the text of a destination file).</summary>
    public string? ClaimSettings { get; init; }

    /// <summary>The retry generation being sent, or 0 when no retry is under way.</summary>
    public int RetryGeneration { get; init; }

    /// <summary>The number of the last retry generation ever begun.</summary>
    public int LastRetryGeneration { get; init; }

    /// <summary>What the destination has done, over every run.</summary>
    public DeliveryCounts Totals { get; init; } = DeliveryCounts.Zero;

    /// <summary>The last failure of a call or a run, in one line (no token).</summary>
    public string? LastError { get; init; }

    /// <summary>When <see cref="LastError"/> happened.</summary>
    public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>The open run, or null.</summary>
    public long? RunId { get; init; }

    /// <summary>When the progress last changed.</summary>
    public DateTimeOffset? UpdatedAt { get; init; }
}
