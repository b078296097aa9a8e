namespace Kiteflow.Server.Datasets;

/// <summary>
/// Tells in-process readers (the delivery loop) that records were appended, after they are durable. Race-free:
/// read the store's count, then wait for more than that count; an append in between is not missed.
/// </summary>
public interface IDatasetAppendSignal
{
    /// <summary>Says that <paramref name="datasetId"/> now holds <paramref name="recordCount"/> records (called after the commit).</summary>
    void Appended(long datasetId, long recordCount);

    /// <summary>
    /// Completes with the dataset's record count once it is above <paramref name="knownCount"/>: at once when an append
    /// already said so, else at the next append. The store can be polled as well; this only saves the polling.
    /// </summary>
    Task<long> WaitForMoreThanAsync(long datasetId, long knownCount, CancellationToken cancellationToken);
}
