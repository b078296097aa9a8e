using Kiteflow.Delivery.Pacing;

namespace Kiteflow.Delivery.Sending;

/// <summary>What one HTTP attempt came to, classified by what it means for resending (SPEC §4).</summary>
internal enum AttemptKind
{
    /// <summary>2xx: Buildkite processed it.</summary>
    Success,

    /// <summary>429: nothing was processed; wait for the reset and send again.</summary>
    RateLimited,

    /// <summary>Another 4xx: Buildkite refused it; resending would be refused again.</summary>
    Refused,

    /// <summary>5xx: the request arrived and failed; it may have been partly processed.</summary>
    ServerError,

    /// <summary>The connection failed before the request was written: nothing reached Buildkite.</summary>
    NotSent,

    /// <summary>A reset, a dropped connection or a timeout after the request was written: it may have been processed.</summary>
    Ambiguous,

    /// <summary>A create-build whose build a lookup found (by its delivery id) after an ambiguous attempt.</summary>
    FoundByLookup,
}

/// <summary>One attempt's outcome, with what the responses output records of it.</summary>
internal sealed record AttemptOutcome(AttemptKind Kind, int Attempt, DateTimeOffset SentAt, TimeSpan Duration)
{
    /// <summary>The HTTP status, when a response came.</summary>
    public int? Status { get; init; }

    /// <summary>The response headers the responses output keeps (RateLimit-*, Location, Content-Type).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The response body as text, when there was one.</summary>
    public string? Body { get; init; }

    /// <summary>Whether <see cref="Body"/> is JSON.</summary>
    public bool BodyIsJson { get; init; }

    /// <summary>What went wrong, for failures, in words a user can act on.</summary>
    public string? Error { get; init; }

    /// <summary>What the response said about the rate limits.</summary>
    public RateLimitHeaders RateLimits { get; init; }

    /// <summary>Whether the request may have been processed although no success was seen.</summary>
    public bool MayHaveBeenProcessed => Kind is AttemptKind.ServerError or AttemptKind.Ambiguous;
}
