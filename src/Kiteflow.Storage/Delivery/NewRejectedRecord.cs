namespace Kiteflow.Storage;

/// <summary>A record a destination did not deliver, and why.</summary>
/// <param name="Offset">Its offset in the destination's dataset.</param>
/// <param name="Stage"><c>read</c>, <c>template</c>, <c>validate</c>, <c>script</c> or <c>http</c>.</param>
/// <param name="Message">What went wrong, in one line.</param>
/// <param name="Status">Buildkite's HTTP status, when it answered.</param>
/// <param name="Response">Buildkite's answer, when it refused the call.</param>
/// <param name="PossiblyDelivered">Whether the call may have been processed.</param>
/// <param name="Retryable">Whether nothing reached Buildkite.</param>
/// <param name="At">When.</param>
public sealed record NewRejectedRecord(long Offset, string Stage, string Message, int? Status, string? Response, bool PossiblyDelivered, bool Retryable, DateTimeOffset At);
