using System.Diagnostics;
using System.Globalization;
using Kiteflow.Storage;
using Kiteflow.Storage.Postgres.Store;
using Kiteflow.Storage.Sqlite;

namespace Kiteflow.Benchmarks;

/// <summary>
/// Appends straight to each store (no HTTP, no parsing) one batch after another, at batch sizes 1, 10, 100 and 1,000,
/// and for PostgreSQL both ways of writing the records — binary COPY, and one INSERT … SELECT FROM unnest(bytea[]) sent
/// with the rest of the append — which is how <c>PostgresKiteflowStore</c>'s append method was chosen. Records are the
/// ingest harness's (~230 bytes), split into lines before the clock starts.
/// </summary>
internal static class StoreAppendHarness
{
    private static readonly int[] BatchSizes = [1, 10, 100, 1000];

    public static async Task<int> RunAsync(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        string[] stores = args.Length > 1 ? args[1..] : ["sqlite", "postgres-unflushed", "postgres"];
        Console.WriteLine("| store | method | batch | appends | rec/s | ms per append |");
        Console.WriteLine("|---|---|---|---|---|---|");
        try
        {
            foreach (var spec in stores)
            {
                await using var bench = await BenchStore.OpenAsync(spec);
                await using var store = bench.ServerStore is null
                    ? (IKiteflowStore)SqliteKiteflowStore.Open(Path.Combine(bench.DataDirectory, "kiteflow.db"))
                    : PostgresKiteflowStore.Open(bench.ServerStore);
                await store.MigrateAsync(CancellationToken.None);
                PostgresAppendMethod?[] methods = store is PostgresKiteflowStore ? [PostgresAppendMethod.Copy, PostgresAppendMethod.Unnest] : [null];
                foreach (var size in BatchSizes)
                {
                    // Fewer records for small batches: the cost there is per append, and 200,000 single-record commits say nothing more than 2,000.
                    var count = size switch { 1 => records / 100, 10 => records / 10, 100 => records / 2, _ => records };
                    var batches = Batches(count, size);
                    foreach (var method in methods)
                    {
                        if (method is { } m)
                        {
                            ((PostgresKiteflowStore)store).AppendMethod = m;
                        }

                        var warmup = await NewDatasetAsync(store, $"warmup-{size}-{method}");
                        foreach (var batch in batches.Take(20))
                        {
                            await store.Datasets.AppendAsync(warmup.Id, batch, CancellationToken.None);
                        }

                        var dataset = await NewDatasetAsync(store, $"timed-{size}-{method}");
                        var stopwatch = Stopwatch.StartNew();
                        foreach (var batch in batches)
                        {
                            await store.Datasets.AppendAsync(dataset.Id, batch, CancellationToken.None);
                        }

                        var elapsed = stopwatch.Elapsed;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {bench.Name} | {method?.ToString().ToLowerInvariant() ?? "—"} | {size:N0} | {batches.Count:N0} | {count / elapsed.TotalSeconds:N0} | {elapsed.TotalMilliseconds / batches.Count:N2} |"));
                    }
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
