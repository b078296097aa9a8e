namespace Kiteflow.Core.Records;

/// <summary>
/// Reads records that a dataset already holds: each item's position is its offset in the dataset (not its
/// place in this sequence), so plans over any stretch of a dataset name their batches by the same positions.
/// A record's "line" is its offset + 1: its line in the dataset's JSON Lines export.
/// </summary>
internal sealed class DatasetRecordReader : RecordReader
{
    private readonly IEnumerable<DatasetItem> _items;
    private readonly RecordParser _parser;

    public DatasetRecordReader(IEnumerable<DatasetItem> items, ReaderLimits limits)
    {
        _items = items;
        _parser = new RecordParser(limits);
        Parser = _parser;
    }

    protected override IEnumerable<ReadResult> ReadItems()
    {
        foreach (var item in _items)
        {
            yield return _parser.Parse(item.Utf8Json.Span, item.Offset, item.Offset + 1);
        }
    }

    protected override void DisposeInput()
    {
        if (_items is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
