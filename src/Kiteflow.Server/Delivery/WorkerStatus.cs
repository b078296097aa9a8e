namespace Kiteflow.Server.Delivery;

/// <summary>What a destination's worker is doing, for the status endpoint.</summary>
[GenerateSerializer]
[Immutable]
public sealed record WorkerStatus
{
    /// <summary>starting, delivering, waiting, retrying, stopping, stopped, failed; <c>idle</c> when no worker runs.</summary>
    [Id(0)]
    public string State { get; init; } = "idle";

    /// <summary>Records settled per second over the last minute.</summary>
    [Id(1)]
    public double RecordsPerSecond { get; init; }

    /// <summary>The last problem that held the worker up, in one line.</summary>
    [Id(2)]
    public string? LastError { get; init; }

    /// <summary>The silo the destination runs on.</summary>
    [Id(3)]
    public string? Silo { get; init; }
}
