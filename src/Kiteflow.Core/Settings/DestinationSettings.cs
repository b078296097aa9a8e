namespace Kiteflow.Core.Settings;

/// <summary>
/// A destination's request settings (SPEC §2, §7), as read from a destination file. Defaults are the
/// ones a new destination starts with. <see cref="DestinationSettingsReader"/> validates them and
/// <see cref="Planning.Destination"/> compiles them.
/// </summary>
public sealed class DestinationSettings
{
    /// <summary>A name for the destination, shown in outputs and given to batching scripts. Default: the file name.</summary>
    public string Name { get; set; } = "destination";

    /// <summary>The HTTP method: POST (default), PUT, PATCH or DELETE.</summary>
    public string Method { get; set; } = "POST";

    /// <summary>How bodies are written. Default <see cref="ContentFormat.Json"/>.</summary>
    public ContentFormat ContentFormat { get; set; } = ContentFormat.Json;

    /// <summary>The URL template (required), e.g. <c>https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds</c>.</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>Extra request headers as <c>name:value</c> pairs separated by commas; values may use macros.</summary>
    public string? Headers { get; set; }

    /// <summary>Attribute paths left out of the body (<c>org</c>, <c>author.email</c>).</summary>
    public IList<string> ExcludeAttributes { get; set; } = [];

    /// <summary>
    /// The body template (SPEC §2.5b) as JSON text: each record's body is this JSON value with its
    /// macros filled from the record, instead of the record itself. Null (default): the record is the body.
    /// </summary>
    public string? BodyTemplate { get; set; }

    /// <summary>How <c>{now}</c> macros are written (.NET date format). Default <c>yyyy-MM-dd</c>.</summary>
    public string DateFormat { get; set; } = "yyyy-MM-dd";

    /// <summary>The unit of N in <c>{now±N}</c>. Default <see cref="Settings.DateUnit.Day"/>.</summary>
    public DateUnit DateUnit { get; set; } = DateUnit.Day;

    /// <summary>Record batching; off by default.</summary>
    public BatchingSettings Batching { get; set; } = new();

    /// <summary>The response webhook; off by default.</summary>
    public ResponseWebhookSettings ResponseWebhook { get; set; } = new();

    /// <summary>How delivery paces, retries and times out.</summary>
    public DeliverySettings Delivery { get; set; } = new();
}

/// <summary>Record batching (SPEC §2.6).</summary>
public sealed class BatchingSettings
{
    /// <summary>The largest batch size accepted.</summary>
    public const int MaxBatchSize = 10_000;

    /// <summary>Whether records are batched. Default false: one request per record.</summary>
    public bool Enabled { get; set; }

    /// <summary>Records per batch, 1–10,000. Default 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>The largest body a batch may make, in bytes. Default 5 MiB.</summary>
    public long MaxBatchBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>
    /// In streaming delivery (an active destination of the server), how long a batch that is not full waits for more
    /// records after its first one arrived, in milliseconds, before it is sent as it is. 0–600,000; default 1,000.
    /// A file ends, so <c>kiteflow send</c> never waits.
    /// </summary>
    public int LingerMs { get; set; } = 1000;

    /// <summary>How a batch becomes a body. Default <see cref="BatchAlgorithm.JsonArray"/>.</summary>
    public BatchAlgorithm Algorithm { get; set; } = BatchAlgorithm.JsonArray;

    /// <summary>For <see cref="BatchAlgorithm.Property"/>: the property that holds the records.</summary>
    public string? PropertyName { get; set; }

    /// <summary>For <see cref="BatchAlgorithm.Property"/>: other properties of the body, as JSON object text.</summary>
    public string? OtherProps { get; set; }

    /// <summary>For <see cref="BatchAlgorithm.Code"/>: JavaScript defining <c>function batch(records, context)</c>.</summary>
    public string? Code { get; set; }
}

/// <summary>The response webhook (SPEC §2.7).</summary>
public sealed class ResponseWebhookSettings
{
    /// <summary>Whether each call's outcome is recorded as a response record. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>An external URL each response record is also POSTed to (https, or http on loopback).</summary>
    public string? ForwardUrl { get; set; }
}

/// <summary>How delivery sends (SPEC §4).</summary>
public sealed class DeliverySettings
{
    /// <summary>Requests in flight at once, 1–64. Default 4.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>Attempts per request including the first, 1–20. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Seconds one attempt may take before it is abandoned, 1–600. Default 30.</summary>
    public int TimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Whether a POST other than create-build is resent after an ambiguous failure (the call may have
    /// been processed). Default false: such records end "possibly delivered".
    /// </summary>
    public bool RetryAmbiguousPosts { get; set; }

    /// <summary>
    /// Whether requests are paced to Buildkite's rate limits. Default true; turn off only for targets
    /// that are not Buildkite's rate-limited API (a local receiver, a proxy that paces itself).
    /// </summary>
    public bool Pacing { get; set; } = true;

    /// <summary>
    /// A cap the user chooses: at most this many requests a minute to any one organization, even when the
    /// server's <c>RateLimit-*</c> headers allow more. Default none: pacing follows the server.
    /// </summary>
    public int? OrganizationRequestsPerMinute { get; set; }

    /// <summary>
    /// A cap the user chooses: at most this many requests a minute in all (the token user's limit), even when
    /// the server's <c>RateLimit-User-*</c> headers allow more. Default none: pacing follows the server.
    /// </summary>
    public int? UserRequestsPerMinute { get; set; }

    /// <summary>
    /// How many threads read, template, check and shape records ahead of sending, 1–64. Null (the default): one
    /// per processor. <see cref="Planning.PlannerOptions.Parallelism"/> (the CLI's <c>--threads</c>) overrides it.
    /// </summary>
    public int? PlanningThreads { get; set; }
}
