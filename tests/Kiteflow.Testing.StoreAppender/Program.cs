using System.Globalization;
using System.Text;
using Kiteflow.Storage;
using Kiteflow.Storage.Postgres.Store;

// Appends to one dataset of a PostgreSQL store from a process of its own (the store contract suite starts several).
//
//   dotnet Kiteflow.Testing.StoreAppender.dll DATASET-ID WORKER BATCHES BATCH-SIZE SHARED-KEY
//
// The connection string comes from KITEFLOW_TEST_STORE (never the command line, where `ps` shows it). The process
// prints "ready" once the store answers, waits for a line "go" on stdin — so that every worker starts appending at
// the same moment — then appends BATCHES batches of BATCH-SIZE records {"w":WORKER,"b":BATCH,"i":INDEX}; halfway it
// also appends one batch {"shared":true,"i":INDEX} under the idempotency key SHARED-KEY (which every worker uses).
// Each append prints "append FIRST-OFFSET COUNT REPLAYED BATCH" ("shared" for the keyed one). Exit 0 when every
// append returned, 1 (with the reason on stderr) otherwise.
if (args.Length != 5
    || !long.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var datasetId)
    || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var worker)
    || !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out var batches)
    || !int.TryParse(args[3], NumberStyles.None, CultureInfo.InvariantCulture, out var size))
{
    Console.Error.WriteLine("usage: Kiteflow.Testing.StoreAppender DATASET-ID WORKER BATCHES BATCH-SIZE SHARED-KEY (store in KITEFLOW_TEST_STORE)");
    return 2;
}

var sharedKey = args[4];
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

    Console.Out.WriteLine("ready");
    Console.Out.Flush();
    if (Console.In.ReadLine() != "go")
    {
        Console.Error.WriteLine("stdin closed before \"go\".");
        return 1;
    }

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

    return 0;
}
catch (Exception e) when (e is StoreException or System.Data.Common.DbException or InvalidOperationException or IOException)
{
    Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
    return 1;
}

static RecordBatch Records(int size, Func<int, string> text, string? key) => new()
{
    Records = [.. Enumerable.Range(0, size).Select(i => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(text(i)))],
    IdempotencyKey = key,
    At = DateTimeOffset.UtcNow,
};

static void Report(AppendResult result, string batch)
{
    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"append {result.FirstOffset} {result.Count} {(result.Replayed ? "replayed" : "appended")} {batch}"));
    Console.Out.Flush();
}
