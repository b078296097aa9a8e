namespace Kiteflow.Storage;

/// <summary>A stored read rejection.</summary>
/// <param name="Id">Its id (increasing).</param>
/// <param name="Line">The 1-based line of its input, when known.</param>
/// <param name="Item">Its 0-based position among its input's items.</param>
/// <param name="Message">Why it was not read.</param>
/// <param name="Origin"><c>upload</c> or <c>ingest</c>.</param>
/// <param name="At">When.</param>
public sealed record ReadRejectionRow(long Id, long? Line, long Item, string Message, string Origin, DateTimeOffset At);
