using Kiteflow.Core.Records;
using Kiteflow.Storage;

namespace Kiteflow.Server.Destinations;

/// <summary>
/// A dataset's records from an offset on, read from the store a page at a time as a plan asks for them, so a preview
/// of a dataset of any size reads only the few pages its first requests need. Pages grow (×4, up to 4,096 records)
/// for plans that need more: batching, or many rejections.
/// </summary>
/// <remarks>
/// The planner is synchronous (a plan is an <see cref="IEnumerable{T}"/>). The first page is read asynchronously before
/// planning starts and is all a preview usually needs; a page beyond it is read synchronously from the enumeration —
/// SQLite's reads complete synchronously in any case.
/// </remarks>
internal sealed class DatasetPages : IEnumerable<DatasetItem>
{
    private const int MaxPage = 4096;

    private readonly IDatasetStore _store;
    private readonly long _datasetId;
    private readonly long _fromOffset;
    private readonly int _firstPageSize;
    private readonly IReadOnlyList<StoredRecord> _firstPage;
    private readonly CancellationToken _cancellationToken;

    private DatasetPages(IDatasetStore store, long datasetId, long fromOffset, int firstPageSize, IReadOnlyList<StoredRecord> firstPage, CancellationToken cancellationToken)
    {
        _store = store;
        _datasetId = datasetId;
        _fromOffset = fromOffset;
        _firstPageSize = firstPageSize;
        _firstPage = firstPage;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Reads the first page and returns the records from <paramref name="fromOffset"/> on.</summary>
    public static async Task<DatasetPages> OpenAsync(IDatasetStore store, long datasetId, long fromOffset, int firstPageSize, CancellationToken cancellationToken)
    {
        var first = await store.ReadAsync(datasetId, fromOffset, firstPageSize, cancellationToken).ConfigureAwait(false);
        return new DatasetPages(store, datasetId, fromOffset, firstPageSize, first, cancellationToken);
    }

    /// <summary>How many records were read from the store so far (all pages).</summary>
    public long RecordsFetched { get; private set; }

    public IEnumerator<DatasetItem> GetEnumerator()
    {
        var page = _firstPage;
        var size = _firstPageSize;
        var next = _fromOffset;
        while (true)
        {
            RecordsFetched += page.Count;
            foreach (var record in page)
            {
                yield return new DatasetItem(record.Offset, record.Json);
                next = record.Offset + 1;
            }

            if (page.Count < size)
            {
                yield break;
            }

            size = Math.Min(size * 4, MaxPage);
            page = _store.ReadAsync(_datasetId, next, size, _cancellationToken).GetAwaiter().GetResult();
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
