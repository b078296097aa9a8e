namespace Kiteflow.Storage;

/// <summary>
/// Datasets and their records. Records are append-only; each gets the next dense offset of its dataset
/// (0, 1, 2, …), which never changes. An append is one transaction and durable when it returns.
/// </summary>
public interface IDatasetStore
{
    /// <summary>Creates a dataset.</summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.NameTaken"/>.</exception>
    Task<DatasetRow> CreateAsync(NewDataset dataset, CancellationToken cancellationToken);

    /// <summary>The dataset of that name, or null.</summary>
    Task<DatasetRow?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>The dataset of that id, or null.</summary>
    Task<DatasetRow?> GetByIdAsync(long id, CancellationToken cancellationToken);

    /// <summary>Every dataset, by name.</summary>
    Task<IReadOnlyList<DatasetRow>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Deletes a dataset with its records, schema, read rejections and idempotency keys.</summary>
    /// <returns>False when there was none.</returns>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.InUse"/>: a destination that is not deleted reads it.</exception>
    Task<bool> DeleteAsync(long id, CancellationToken cancellationToken);

    /// <summary>Replaces the dataset's ingest key (its hash) and whether a signature is required.</summary>
    /// <returns>The updated dataset, or null when there is none.</returns>
    Task<DatasetRow?> SetIngestKeyAsync(long id, IngestKeySettings key, CancellationToken cancellationToken);

    /// <summary>
    /// Appends records in one transaction, with the read rejections and schema changes that go with them.
    /// With an idempotency key already used on this dataset, appends nothing and returns the first append's result.
    /// </summary>
    /// <exception cref="StoreConflictException"><see cref="StoreConflict.NotFound"/>: the dataset is gone.</exception>
    Task<AppendResult> AppendAsync(long datasetId, RecordBatch batch, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> records from offset <paramref name="fromOffset"/> on, in offset order.</summary>
    Task<IReadOnlyList<StoredRecord>> ReadAsync(long datasetId, long fromOffset, int limit, CancellationToken cancellationToken);

    /// <summary>The attribute paths seen so far, in first-seen order, kept up to date by every append.</summary>
    Task<IReadOnlyList<SchemaPath>> GetSchemaAsync(long datasetId, CancellationToken cancellationToken);

    /// <summary>Read rejections (upload or ingest), oldest first, from id <paramref name="afterId"/> (exclusive).</summary>
    Task<Page<ReadRejectionRow>> ListReadRejectionsAsync(long datasetId, long afterId, int limit, CancellationToken cancellationToken);
}
