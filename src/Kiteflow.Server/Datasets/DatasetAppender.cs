using System.Threading.Channels;
using Kiteflow.Core.Records;
using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Datasets;

/// <summary>
/// The one way records get into a dataset from outside (upload and ingest): read with Kiteflow.Core's readers,
/// appended with their schema and read rejections, then announced on <see cref="IDatasetAppendSignal"/>.
/// </summary>
internal sealed class DatasetAppender(IKiteflowStore store, IDatasetAppendSignal signal, ServerOptions options, KiteflowMetrics metrics)
{
    /// <summary>How many rejections an answer lists (the rest are counted, and kept in the store).</summary>
    public const int RejectionsShown = 10;

    private const long MaxBatchBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Streams <paramref name="body"/> into the dataset in constant memory: a reader thread fills batches of
    /// <see cref="ServerOptions.UploadBatchRecords"/> while the previous one is appended (each batch one transaction).
    /// </summary>
    public async Task<UploadOutcome> UploadAsync(DatasetRow dataset, Stream body, InputFormat format, CancellationToken cancellationToken)
    {
        var batches = Channel.CreateBounded<RecordBatchBuilder>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(
            () =>
            {
                try
                {
                    using var reader = RecordReader.Create(body, format);
                    var batch = new RecordBatchBuilder("upload");
                    foreach (var item in reader)
                    {
                        batch.Add(item);
                        if (batch.RecordCount >= options.UploadBatchRecords || batch.Bytes >= MaxBatchBytes || batch.RejectionCount >= options.UploadBatchRecords)
                        {
                            batches.Writer.WriteAsync(batch, cancellationToken).AsTask().GetAwaiter().GetResult();
                            batch = new RecordBatchBuilder("upload");
                        }
                    }

                    if (batch.RecordCount > 0 || batch.RejectionCount > 0)
                    {
                        batches.Writer.WriteAsync(batch, cancellationToken).AsTask().GetAwaiter().GetResult();
                    }

                    batches.Writer.Complete();
                }
                catch (Exception e)
                {
                    batches.Writer.Complete(e);
                }
            },
            CancellationToken.None);

        var outcome = new UploadOutcome { FirstOffset = dataset.RecordCount, RecordCount = dataset.RecordCount };
        try
        {
            await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var result = await store.Datasets.AppendAsync(dataset.Id, batch.Build(options.TimeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
                if (outcome.Appended == 0)
                {
                    outcome.FirstOffset = result.FirstOffset;
                }

                outcome.Appended += result.Count;
                outcome.Rejected += batch.RejectionCount;
                outcome.RecordCount = result.RecordCount;
                outcome.Rejections.AddRange(batch.Rejections.Take(RejectionsShown - outcome.Rejections.Count));
                signal.Appended(dataset.Id, result.RecordCount);
            }
        }
        catch (InputException e)
        {
            outcome.Error = e.Message;
        }
        finally
        {
            await producer.ConfigureAwait(false);
        }

        metrics.Uploaded(dataset.Name, outcome.Appended);
        return outcome;
    }

    /// <summary>Reads a whole ingest body and appends it in one transaction, at most once per idempotency key.</summary>
    /// <exception cref="InputException">The body as a whole cannot be read (e.g. a CSV header that builds no records).</exception>
    public async Task<IngestOutcome> IngestAsync(DatasetRow dataset, byte[] body, int length, InputFormat format, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var batch = new RecordBatchBuilder("ingest");
        using (var reader = RecordReader.Create(new MemoryStream(body, 0, length, writable: false), format))
        {
            foreach (var item in reader)
            {
                batch.Add(item);
            }
        }

        var rejections = batch.Rejections.Take(RejectionsShown).Select(r => new RejectionSummary(r.Line, r.Item, r.Message)).ToArray();

        // What a retry with the same key gets back besides the offsets (which the store keeps itself).
        var remembered = System.Text.Json.JsonSerializer.Serialize(new RememberedIngest(batch.RejectionCount, rejections), ServerJson.Options);
        var result = await store.Datasets.AppendAsync(dataset.Id, batch.Build(options.TimeProvider.GetUtcNow(), idempotencyKey, remembered), cancellationToken).ConfigureAwait(false);
        if (!result.Replayed)
        {
            signal.Appended(dataset.Id, result.RecordCount);
            return new IngestOutcome(result, batch.RejectionCount, rejections);
        }

        var first = result.IdempotentResponse is { } text ? System.Text.Json.JsonSerializer.Deserialize<RememberedIngest>(text, ServerJson.Options) : null;
        return new IngestOutcome(result, first?.Rejected ?? 0, first?.Rejections ?? []);
    }

    private sealed record RememberedIngest(int Rejected, RejectionSummary[] Rejections);
}
