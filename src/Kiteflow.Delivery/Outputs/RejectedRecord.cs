namespace Kiteflow.Delivery.Outputs;

/// <summary>A record that was not delivered, and why (SPEC §4).</summary>
/// <param name="Position">Its position in the input (a dataset's offset).</param>
/// <param name="Line">The input's line it started on, when known.</param>
/// <param name="Data">The original record: its JSON, or (when <paramref name="DataIsJson"/> is false) the text it had in the input; null when too large to keep.</param>
/// <param name="DataIsJson">Whether <paramref name="Data"/> is JSON.</param>
/// <param name="Stage"><c>read</c>, <c>template</c>, <c>validate</c>, <c>script</c> or <c>http</c>.</param>
/// <param name="Message">What went wrong, in one line.</param>
/// <param name="Status">The HTTP status Buildkite answered, when it did.</param>
/// <param name="Response">Buildkite's answer, when it refused the request.</param>
/// <param name="PossiblyDelivered">Whether the call may have been processed (not resent automatically).</param>
/// <param name="Retryable">Whether nothing reached Buildkite, so sending it again is safe.</param>
public sealed record RejectedRecord(long Position, long? Line, string? Data, bool DataIsJson, string Stage, string Message, int? Status, string? Response, bool PossiblyDelivered, bool Retryable);
