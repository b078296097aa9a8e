namespace Kiteflow.Storage;

/// <summary>An item of an upload or ingest that could not be read as a record.</summary>
/// <param name="Line">The 1-based line of the input it starts on, when known.</param>
/// <param name="Item">Its 0-based position among the input's items.</param>
/// <param name="Message">Why it was not read.</param>
/// <param name="Origin">Which input: <c>upload</c> or <c>ingest</c>.</param>
public sealed record NewReadRejection(long? Line, long Item, string Message, string Origin);
