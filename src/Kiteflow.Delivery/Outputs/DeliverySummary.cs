using System.Text.Json.Serialization;

namespace Kiteflow.Delivery.Outputs;

/// <summary>
/// How a run ended. <see cref="Records"/> always equals <see cref="Delivered"/> + <see cref="Rejected"/>
/// + <see cref="PossiblyDelivered"/> + <see cref="Pending"/>; <see cref="Pending"/> is 0 when the run completed.
/// </summary>
public sealed record DeliverySummary
{
    /// <summary>Completed, stopped or failed.</summary>
    public DeliveryRunStatus Status { get; init; } = DeliveryRunStatus.Completed;

    /// <summary>Why the run stopped or failed, in words a user can act on; null when it completed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Message { get; init; }

    /// <summary>Records read, bad ones included (the whole input when the run completed).</summary>
    public long Records { get; init; }

    /// <summary>Records Buildkite accepted (in this run or an earlier run of the same command).</summary>
    public long Delivered { get; init; }

    /// <summary>Records refused, before or by Buildkite, or given up on after every attempt.</summary>
    public long Rejected { get; init; }

    /// <summary>Records whose request may have been processed, and was not resent because that is not safe.</summary>
    public long PossiblyDelivered { get; init; }

    /// <summary>Records read but not settled because the run stopped: running the same command again goes on with them.</summary>
    public long Pending { get; init; }

    /// <summary>Of <see cref="Delivered"/>, the records an earlier run of the same command delivered (nothing was sent for them now).</summary>
    public long DeliveredEarlier { get; init; }

    /// <summary>Of <see cref="Rejected"/> and <see cref="PossiblyDelivered"/>, the records an earlier run settled so (not sent again).</summary>
    public long NotDeliveredEarlier { get; init; }

    /// <summary>API calls made by this run (attempts and create-build lookups; not the token check).</summary>
    public long Requests { get; init; }

    /// <summary>Attempts after the first, over every request.</summary>
    public long Retries { get; init; }

    /// <summary>How many times a request waited for a rate-limit window (the pacer's waits and 429s).</summary>
    public long RateLimitWaits { get; init; }

    /// <summary>Response records POSTed to <c>responseWebhook.forwardUrl</c>; null when none is set.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ResponsesForwarded { get; init; }

    /// <summary>Response records the forward URL did not accept after every attempt; null when none is set.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ResponsesNotForwarded { get; init; }

    /// <summary>The run's wall time.</summary>
    public long DurationMs { get; init; }
}
