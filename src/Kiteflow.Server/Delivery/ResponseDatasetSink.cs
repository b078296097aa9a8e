using System.Threading.Channels;
using Kiteflow.Core.Records;
using Kiteflow.Delivery.Outputs;
using Kiteflow.Server.Datasets;
using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// Appends a destination's response records (SPEC §2.7) to its response dataset, so they can be listed, exported and
/// fed to the next destination. Lookups are not records of the flow (they answer Kiteflow's own question), so only
/// attempts and settled outcomes go in. Records are appended in small batches from a bounded queue: a slow store
/// slows the senders rather than filling memory.
/// </summary>
internal sealed class ResponseDatasetSink : IResponseSink, IAsyncDisposable
{
    private const int MaxBatch = 500;
    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(2_000) { SingleReader = true });
    private readonly DatasetAppender _appender;
    private readonly DatasetRow _dataset;
    private readonly ILogger _logger;
    private readonly Task _writer;

    public ResponseDatasetSink(DatasetAppender appender, DatasetRow dataset, ILogger logger)
    {
        _appender = appender;
        _dataset = dataset;
        _logger = logger;
        _writer = Task.Run(WriteLoopAsync);
    }

    public async ValueTask WriteAsync(ResponseRecord record, CancellationToken cancellationToken)
    {
        if (record.Kind == "lookup")
        {
            return;
        }

        await _queue.Writer.WriteAsync(record.Json.ToArray(), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Appends everything queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new MemoryStream();
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.SetLength(0);
            var count = 0;
            while (count < MaxBatch && _queue.Reader.TryRead(out var line))
            {
                batch.Write(line);
                batch.WriteByte((byte)'\n');
                count++;
            }

            try
            {
                // The response records are Kiteflow's own JSON, one object a line: every line reads back as a record.
                await _appender.IngestAsync(_dataset, batch.GetBuffer(), (int)batch.Length, InputFormat.JsonLines, idempotencyKey: null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StoreException or InputException)
            {
                // The calls themselves are settled in the ledger; what is lost is their record in the dataset, said here.
                Log.ResponsesNotAppended(_logger, _dataset.Name, count, e.Message);
            }
        }
    }
}
