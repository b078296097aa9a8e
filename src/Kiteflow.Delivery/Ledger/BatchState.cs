namespace Kiteflow.Delivery.Ledger;

/// <summary>
/// Where a batch (one planned request) stands, with the risk each state carries. Written durably
/// around every call so that a crash at any instant can be resolved without sending twice.
/// </summary>
public enum BatchState
{
    /// <summary>Planned, never sent. Safe to send.</summary>
    Pending,

    /// <summary>
    /// Sent, or about to be, with no outcome recorded. After a crash it may or may not have reached
    /// Buildkite: resolved by a lookup (create-build), a resend (idempotent methods) or marked
    /// <see cref="PossiblyDelivered"/>.
    /// </summary>
    InFlight,

    /// <summary>Buildkite accepted it (2xx), or a lookup found the build it made. Never sent again.</summary>
    Delivered,

    /// <summary>Buildkite refused it (4xx other than 429), or it was rejected before sending. Never sent again.</summary>
    Rejected,

    /// <summary>
    /// The outcome is unknown and resending is not safe (a POST that is not create-build, without
    /// <c>delivery.retryAmbiguousPosts</c>). Never sent again; the user decides.
    /// </summary>
    PossiblyDelivered,
}
