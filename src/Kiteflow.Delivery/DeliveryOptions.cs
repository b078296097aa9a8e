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

    /// <summary>The HTTP handler to send with; null for a fresh <see cref="SocketsHttpHandler"/>. Ignored when <see cref="Client"/> is set.</summary>
    public HttpMessageHandler? Handler { get; init; }

    /// <summary>
    /// A client to send with, shared with other runs (it must not follow redirects: the token must not be carried
    /// to another host); null for one of the run's own (<see cref="Handler"/>).
    /// </summary>
    public HttpClient? Client { get; init; }

    /// <summary>
    /// Whether the run first checks the token (<c>GET /v2/access-token</c>: valid, and holding the endpoint's scope).
    /// Default true; a caller that checked it already (the server, when a destination is activated) turns it off.
    /// </summary>
    public bool CheckToken { get; init; } = true;

    /// <summary>Where response records go besides <see cref="ResponsesPath"/> and the forward URL (the server's response dataset).</summary>
    public IReadOnlyList<Outputs.IResponseSink> ResponseSinks { get; init; } = [];

    /// <summary>Where records not delivered go besides <see cref="RejectedPath"/> (the server's rejected records).</summary>
    public Outputs.IRejectedSink? RejectedSink { get; init; }

    /// <summary>Where the run logs (<see cref="DeliveryLog"/>'s messages, the same for the CLI and the server); none by default.</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>Told of every API call the run makes (attempts and lookups), for metrics; null for none. Must be quick.</summary>
    public Action<DeliveryCall>? OnCall { get; init; }

    /// <summary>
    /// The rate-limit budgets to spend from, shared with other runs (the server's budget grains); null for the run's own.
    /// </summary>
    internal Pacing.IRateLimitBudgetSource? Budgets { get; init; }

    /// <summary>
    /// The token user's key in <see cref="Budgets"/>: runs whose tokens belong to one user share that user's limit.
    /// Default: the credential's name.
    /// </summary>
    public string? BudgetUser { get; init; }
}
