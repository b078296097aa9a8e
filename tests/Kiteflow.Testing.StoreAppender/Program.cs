using System.Globalization;
using System.Text;
using Kiteflow.Storage;
using Kiteflow.Storage.Postgres.Store;

// Works on a PostgreSQL store from a process of its own (the store contract suite starts several at once).
//
//   dotnet Kiteflow.Testing.StoreAppender.dll DATASET-ID WORKER BATCHES BATCH-SIZE SHARED-KEY
//   dotnet Kiteflow.Testing.StoreAppender.dll claim DESTINATION-ID STRETCHES
//
// The connection string comes from KITEFLOW_TEST_STORE (never the command line, where `ps` shows it). The process
// prints "ready" once the store answers and waits for a line "go" on stdin, so that every worker starts at the same
// moment. Exit 0 when every call returned as it may, 1 (with the reason on stderr) otherwise.
//
// Appending: BATCHES batches of BATCH-SIZE records {"w":WORKER,"b":BATCH,"i":INDEX}; halfway it also appends one batch
// {"shared":true,"i":INDEX} under the idempotency key SHARED-KEY (which every worker uses). Each append prints
// "append FIRST-OFFSET COUNT REPLAYED BATCH" ("shared" for the keyed one).
//
// Claiming: for each stretch [k, k+1), k = 0 … STRETCHES-1, it claims the stretch of the destination; when that
// succeeds it prints "claimed k" and finishes it (one record delivered), when the store refuses it prints "refused k"
// and waits until the cursor has passed k. Every worker tries every stretch, so each is claimed by one and refused to
// the others, whoever comes first.
if (args.Length == 3 && args[0] == "claim"
    && long.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var destinationId)
    && int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var stretches))
{
    return await RunAsync(async store =>
    {
        for (long from = 0; from < stretches; from++)
        {
            try
            {
                await store.Delivery.ClaimAsync(destinationId, from, from + 1, "{}", DateTimeOffset.UtcNow, null, CancellationToken.None);
                Say($"claimed {from}");
                await store.Delivery.FinishAsync(destinationId, new DeliveryCounts(1, 0, 0, 1, 0, 0), from + 1, DateTimeOffset.UtcNow, null, CancellationToken.None);
            }
            catch (StoreConflictException)
            {
                Say($"refused {from}");
                while ((await store.Delivery.GetProgressAsync(destinationId, CancellationToken.None)).Cursor <= from)
                {
                    await Task.Yield();
                }
            }
        }
    });
}

if (args.Length != 5
    || !long.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var datasetId)
    || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var worker)
    || !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var batches)
    || !int.TryParse(args[3], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
{
    Console.Error.WriteLine("usage: Kiteflow.Testing.StoreAppender DATASET-ID WORKER BATCHES BATCH-SIZE SHARED-KEY | claim DESTINATION-ID STRETCHES (store in KITEFLOW_TEST_STORE)");
    return 2;
}

var sharedKey = args[4];

return await RunAsync(async store =>
{
    for (var batch = 0; batch < batches; batch++)
    {
        if (batch == batches / 2)
        {
            var shared = await store.Datasets.AppendAsync(datasetId, Records(size, i => $"{{\"shared\":true,\"i\":{i}}}", sharedKey), CancellationToken.None);
            Report(shared, "shared");
        }

        var result = await store.Datasets.AppendAsync(datasetId, Records(size, i => $"{{\"w\":{worker},\"b\":{batch},\"i\":{i}}}", null), CancellationToken.None);
        Report(result, batch.ToString(CultureInfo.InvariantCulture));
    }
});

static async Task<int> RunAsync(Func<IKiteflowStore, Task> work)
{
    var connectionString = Environment.GetEnvironmentVariable("KITEFLOW_TEST_STORE");
    if (string.IsNullOrEmpty(connectionString))
    {
        Console.Error.WriteLine("KITEFLOW_TEST_STORE is not set.");
        return 2;
    }

    try
    {
        await using var store = PostgresKiteflowStore.Open(connectionString);
        if (await store.CheckAsync(CancellationToken.None) is { } problem)
        {
            Console.Error.WriteLine(problem);
            return 1;
        }

        Say("ready");
        if (Console.In.ReadLine() != "go")
        {
            Console.Error.WriteLine("stdin closed before \"go\".");
            return 1;
        }

        await work(store);
        return 0;
    }
    catch (Exception e) when (e is StoreException or System.Data.Common.DbException or InvalidOperationException or IOException)
    {
        Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
        return 1;
    }
}

static void Say(string line)
{
    Console.Out.WriteLine(line);
    Console.Out.Flush();
}

static RecordBatch Records(int size, Func<int, string> text, string? key) => new()
{
    Records = [.. Enumerable.Range(0, size).Select(i => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(text(i)))],
    IdempotencyKey = key,
    At = DateTimeOffset.UtcNow,
};

static void Report(AppendResult result, string batch) =>
    Say(string.Create(CultureInfo.InvariantCulture, $"append {result.FirstOffset} {result.Count} {(result.Replayed ? "replayed" : "appended")} {batch}"));
