namespace Kiteflow.Core.Records;

/// <summary>One stored record of a dataset: its offset (which becomes its position in a plan) and its JSON text.</summary>
/// <param name="Offset">The record's dense, stable offset in its dataset.</param>
/// <param name="Utf8Json">The record's JSON text, UTF-8.</param>
public readonly record struct DatasetItem(long Offset, ReadOnlyMemory<byte> Utf8Json);
