namespace Kiteflow.Storage;

/// <summary>One record of a dataset.</summary>
/// <param name="Offset">Its dense, stable offset.</param>
/// <param name="Json">Its JSON text (UTF-8, one object, no line breaks).</param>
public sealed record StoredRecord(long Offset, ReadOnlyMemory<byte> Json);
