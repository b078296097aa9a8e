using System.Diagnostics;
using System.Globalization;
using Kiteflow.Storage;
using Kiteflow.Storage.Postgres.Store;
using Kiteflow.Storage.Sqlite;

namespace Kiteflow.Benchmarks;

/// <summary>
/// Appends straight to each store (no HTTP, no parsing) one batch after another, at batch sizes 1, 10, 100 and 1,000:
/// what one append costs, and how it scales with the batch. Records are the ingest harness's (~230 bytes), split into
/// lines before the clock starts. (At commit 95d46d5 it also compared PostgreSQL's binary COPY; see docs/BENCHMARKS.md.)
/// </summary>
internal static class StoreAppendHarness
{
    private static readonly int[] BatchSizes = [1, 10, 100, 1000];

    public static async Task<int> RunAsync(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        string[] stores = args.Length > 1 ? args[1..] : ["sqlite", "postgres-unflushed", "postgres"];
        Console.WriteLine("| store | batch | appends | rec/s | ms per append |");
        Console.WriteLine("|---|---|---|---|---|");
        try
        {
            foreach (var spec in stores)
            {
                await using var bench = await BenchStore.OpenAsync(spec);
                await using var store = bench.ServerStore is null
                    ? (IKiteflowStore)SqliteKiteflowStore.Open(Path.Combine(bench.DataDirectory, "kiteflow.db"))
                    : PostgresKiteflowStore.Open(bench.ServerStore);
                await store.MigrateAsync(CancellationToken.None);
                foreach (var size in BatchSizes)
                {
                    // Fewer records for small batches: the cost there is per append, and 200,000 single-record commits say nothing more than 2,000.
                    var count = size switch { 1 => records / 100, 10 => records / 10, 100 => records / 2, _ => records };
                    var batches = Batches(count, size);
                    var warmup = await NewDatasetAsync(store, $"warmup-{size}");
                    foreach (var batch in batches.Take(20))
                    {
                        await store.Datasets.AppendAsync(warmup.Id, batch, CancellationToken.None);
                    }

                    var dataset = await NewDatasetAsync(store, $"timed-{size}");
                    var stopwatch = Stopwatch.StartNew();
                    foreach (var batch in batches)
                    {
                        await store.Datasets.AppendAsync(dataset.Id, batch, CancellationToken.None);
                    }

                    var elapsed = stopwatch.Elapsed;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {bench.Name} | {size:N0} | {batches.Count:N0} | {count / elapsed.TotalSeconds:N0} | {elapsed.TotalMilliseconds / batches.Count:N2} |"));
                }
            }
        }
        finally
        {
            await BenchStore.StopServerAsync();
        }

        return 0;
    }

    private static Task<DatasetRow> NewDatasetAsync(IKiteflowStore store, string name) =>
        store.Datasets.CreateAsync(new NewDataset(name, DatasetSource.Upload, new IngestKeySettings(name, name, false), DateTimeOffset.UtcNow), CancellationToken.None);

    private static List<RecordBatch> Batches(int count, int size)
    {
        var batches = new List<RecordBatch>(count / size);
        for (var first = 0; first < count; first += size)
        {
            var body = IngestHarness.Body(first, Math.Min(size, count - first));
            var lines = new List<ReadOnlyMemory<byte>>(size);
            var start = 0;
            for (var i = 0; i < body.Length; i++)
            {
                if (body[i] == (byte)'\n')
                {
                    lines.Add(body.AsSpan(start, i - start).ToArray());
                    start = i + 1;
                }
            }

            batches.Add(new RecordBatch { Records = lines, At = DateTimeOffset.UtcNow });
        }

        return batches;
    }
}
