namespace Kiteflow.Delivery;

/// <summary>Where a run's outputs go and what it runs on, besides the destination's own delivery settings.</summary>
public sealed class DeliveryOptions
{
    /// <summary>The run's key (<see cref="Kiteflow.Core.Planning.DeliveryIds.RunKey"/>): names its batches in the ledger.</summary>
    public required string RunKey { get; init; }

    /// <summary>The response records file (JSON Lines, appended to: a log of every call); null for none.</summary>
    public string? ResponsesPath { get; init; }

    /// <summary>The rejected records file (JSON Lines, written afresh each run with every record not delivered); null for none.</summary>
    public string? RejectedPath { get; init; }

    /// <summary>
    /// After a graceful stop, how long the requests in flight may take to be answered before they are cut (an
    /// abort). Default 10 s.
    /// </summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What to do with an earlier run's ledger entries. Default <see cref="DeliveryRestart.None"/>: resume.</summary>
    public DeliveryRestart Restart { get; init; }

    /// <summary>Receives warnings found while running (a torn output line removed, …); null to drop them.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>The clock. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The HTTP handler to send with; null for a fresh <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? Handler { get; init; }
}
