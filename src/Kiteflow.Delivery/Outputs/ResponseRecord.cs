namespace Kiteflow.Delivery.Outputs;

/// <summary>One response record as written: its kind and its JSON.</summary>
/// <param name="Kind"><c>attempt</c> (a try of the request), <c>lookup</c> (a create-build looked up by its delivery id) or <c>outcome</c> (how a request whose answer was lost was settled).</param>
/// <param name="Json">The record: one JSON object, UTF-8, on one line, with the token redacted.</param>
public readonly record struct ResponseRecord(string Kind, ReadOnlyMemory<byte> Json);
