namespace Kiteflow.Server.Delivery;

/// <summary>What a destination has done and is doing (<c>GET /api/v1/destinations/{name}/status</c>).</summary>
internal sealed record DestinationStatus
{
    public required string Name { get; init; }

    /// <summary>draft, active, paused.</summary>
    public required string State { get; init; }

    /// <summary>What its worker is doing: starting, delivering, waiting, retrying, stopping, stopped, failed, idle.</summary>
    public required string Worker { get; init; }

    /// <summary>The silo its grain runs on.</summary>
    public string? Silo { get; init; }

    /// <summary>Records in its dataset.</summary>
    public long DatasetRecords { get; init; }

    /// <summary>Every record before this offset is settled.</summary>
    public long Cursor { get; init; }

    public long Delivered { get; init; }

    /// <summary>Records not delivered now (a retry that delivers them takes them off).</summary>
    public long Rejected { get; init; }

    public long PossiblyDelivered { get; init; }

    public long Requests { get; init; }

    public long Retries { get; init; }

    public long RateLimitWaits { get; init; }

    /// <summary>Records appended and not yet settled.</summary>
    public long Lag { get; init; }

    /// <summary>Records settled per second over the last minute.</summary>
    public double RecordsPerSecond { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorAt { get; init; }

    /// <summary>Whether a retry of records not delivered is being sent.</summary>
    public bool RetryUnderWay { get; init; }
}
