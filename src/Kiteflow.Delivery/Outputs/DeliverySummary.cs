namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// How a run ended. <see cref="Records"/> always equals <see cref="Delivered"/> + <see cref="Rejected"/>
/// + <see cref="PossiblyDelivered"/> at the end of a run that read its whole input.
/// </summary>
public sealed record DeliverySummary
{
    /// <summary>Records read, bad ones included.</summary>
    public long Records { get; init; }

    /// <summary>Records Buildkite accepted (in this run or an earlier run of the same command).</summary>
    public long Delivered { get; init; }

    /// <summary>Records refused, before or by Buildkite, or given up on after every attempt.</summary>
    public long Rejected { get; init; }

    /// <summary>Records whose request may have been processed, and was not resent because that is not safe.</summary>
    public long PossiblyDelivered { get; init; }

    /// <summary>API calls made by this run (attempts and create-build lookups; not the token check).</summary>
    public long Requests { get; init; }

    /// <summary>Attempts after the first, over every request.</summary>
    public long Retries { get; init; }

    /// <summary>How many times a request waited for a rate-limit window (the pacer's waits and 429s).</summary>
    public long RateLimitWaits { get; init; }

    /// <summary>Response records POSTed to <c>responseWebhook.forwardUrl</c>; null when none is set.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public long? ResponsesForwarded { get; init; }

    /// <summary>Response records the forward URL did not accept after every attempt; null when none is set.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public long? ResponsesNotForwarded { get; init; }

    /// <summary>The run's wall time.</summary>
    public long DurationMs { get; init; }
}
