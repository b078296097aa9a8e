using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Server;
using Kiteflow.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kiteflow.Benchmarks;

/// <summary>
/// Ingest through the API against appending straight to the store, in one process, on one store: the server runs
/// in-process on a loopback socket; N records go as JSON Lines bodies of 1,000 records to POST /ingest/{dataset}
/// (a few requests in flight), then the same records go to IKiteflowStore.Datasets.AppendAsync in batches of 1,000.
/// Peak RSS (VmHWM) is read after the ingest phase, before the direct one. The stores named on the command line
/// (<see cref="BenchStore"/>; SQLite by default) run one after another, each with a server of its own.
/// </summary>
internal static class IngestHarness
{
    private const int BatchSize = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        var inFlight = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4;
        string[] stores = args.Length > 2 ? args[2..] : ["sqlite"];
        Console.WriteLine($"| store | records | in flight | ingest rec/s | direct rec/s | ratio | read + schema + append, no HTTP, rec/s | peak RSS after ingest |");
        Console.WriteLine($"|---|---|---|---|---|---|---|---|");
        var rates = new List<(string Store, double Ingest, double Direct)>();
        try
        {
            foreach (var spec in stores)
            {
                await using var store = await BenchStore.OpenAsync(spec);
                var rate = await RunOneAsync(store, records, inFlight);
                if (rate is null)
                {
                    return 1;
                }

                rates.Add((store.Name, rate.Value.Ingest, rate.Value.Direct));
            }
        }
        finally
        {
            await BenchStore.StopServerAsync();
        }

        foreach (var (name, ingest, direct) in rates.Skip(1))
        {
            Console.WriteLine($"{name} / {rates[0].Store}: ingest {ingest / rates[0].Ingest:N2}x, direct appends {direct / rates[0].Direct:N2}x");
        }

        return 0;
    }

    private static async Task<(double Ingest, double Direct)?> RunOneAsync(BenchStore benchStore, int records, int inFlight)
    {
        // Each store's peak is its own: VmHWM starts again from the current RSS (Linux: 5 > clear_refs).
        File.WriteAllText("/proc/self/clear_refs", "5");
        var app = KiteflowServer.Build(new ServerOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = benchStore.DataDirectory,
            Store = benchStore.ServerStore,
            AdminPassword = "bench-password",
            EmbeddedSandbox = false,
            Output = TextWriter.Null,
            SiloPort = BenchSupport.FreePort(),
            GatewayPort = BenchSupport.FreePort(),
            SiloAddress = System.Net.IPAddress.Loopback,
            ConfigureBuilder = builder => builder.Logging.SetMinimumLevel(LogLevel.Warning),
        });
        await app.StartAsync();
        await using (app)
        {
            var baseAddress = new Uri(app.Urls.First());
            using var admin = new HttpClient(new SocketsHttpHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = baseAddress };
            var session = await (await admin.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = "bench-password" })).Content.ReadFromJsonAsync<JsonNode>();
            admin.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)session!["antiforgeryToken"]!);
            var created = await (await admin.PostAsJsonAsync("/api/v1/datasets", new { name = "ingested", source = "ingest" })).Content.ReadFromJsonAsync<JsonNode>();
            var key = (string)created!["ingestKey"]!;
            var store = app.Services.GetRequiredService<IKiteflowStore>();
            var direct = await store.Datasets.CreateAsync(new NewDataset("direct", DatasetSource.Upload, new IngestKeySettings("x", "x", false), DateTimeOffset.UtcNow), CancellationToken.None);

            // Warm up both paths (JIT, connections) on a dataset of their own, out of the timings.
            await PostAllAsync(baseAddress, key, "ingested", 10 * BatchSize, inFlight, warmup: true);

            var ingestTime = await PostAllAsync(baseAddress, key, "ingested", records, inFlight, warmup: false);
            var peak = BenchSupport.PeakResident(Environment.ProcessId);
            var directTime = await AppendAllAsync(store, direct.Id, records);
            var parsed = await store.Datasets.CreateAsync(new NewDataset("parsed", DatasetSource.Upload, new IngestKeySettings("y", "y", false), DateTimeOffset.UtcNow), CancellationToken.None);
            var appender = app.Services.GetRequiredService<Kiteflow.Server.Datasets.DatasetAppender>();
            var appenderTime = await AppendParsedAsync(appender, parsed, records);

            var ingested = (await store.Datasets.GetAsync("ingested", CancellationToken.None))!.RecordCount;
            var appended = (await store.Datasets.GetByIdAsync(direct.Id, CancellationToken.None))!.RecordCount;
            var ingestRate = records / ingestTime.TotalSeconds;
            var directRate = records / directTime.TotalSeconds;
            var appenderRate = records / appenderTime.TotalSeconds;
            Console.WriteLine($"| {benchStore.Name} | {records:N0} | {inFlight} | {ingestRate:N0} | {directRate:N0} | {ingestRate / directRate:N2} | {appenderRate:N0} | {peak / (1024 * 1024):N0} MiB |");
            if (ingested != records + (10 * BatchSize) || appended != records)
            {
                Console.Error.WriteLine($"record counts are off: ingested {ingested:N0}, appended {appended:N0}");
                return null;
            }

            return (ingestRate, directRate);
        }
    }

    private static async Task<TimeSpan> PostAllAsync(Uri baseAddress, string key, string dataset, int records, int inFlight, bool warmup)
    {
        using var client = new HttpClient { BaseAddress = baseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var next = -1;
        var batches = (records + BatchSize - 1) / BatchSize;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            int batch;
            while ((batch = Interlocked.Increment(ref next)) < batches)
            {
                using var content = new ByteArrayContent(Body(batch * BatchSize, Math.Min(BatchSize, records - (batch * BatchSize))));
                content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
                using var response = await client.PostAsync($"/ingest/{dataset}", content);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"ingest answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
        return warmup ? TimeSpan.Zero : stopwatch.Elapsed;
    }

    /// <summary>What ingest does once it has the body — read, schema, append — without HTTP: where the API's cost is.</summary>
    private static async Task<TimeSpan> AppendParsedAsync(Kiteflow.Server.Datasets.DatasetAppender appender, DatasetRow dataset, int records)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var first = 0; first < records; first += BatchSize)
        {
            var body = Body(first, Math.Min(BatchSize, records - first));
            await appender.IngestAsync(dataset, body, body.Length, Kiteflow.Core.Records.InputFormat.JsonLines, null, CancellationToken.None);
        }

        return stopwatch.Elapsed;
    }

    private static async Task<TimeSpan> AppendAllAsync(IKiteflowStore store, long datasetId, int records)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var first = 0; first < records; first += BatchSize)
        {
            var body = Body(first, Math.Min(BatchSize, records - first));
            var lines = new List<ReadOnlyMemory<byte>>(BatchSize);
            var start = 0;
            for (var i = 0; i < body.Length; i++)
            {
                if (body[i] == (byte)'\n')
                {
                    lines.Add(body.AsSpan(start, i - start).ToArray());
                    start = i + 1;
                }
            }

            await store.Datasets.AppendAsync(datasetId, new RecordBatch { Records = lines, At = DateTimeOffset.UtcNow }, CancellationToken.None);
        }

        return stopwatch.Elapsed;
    }

    /// <summary>JSON Lines of <paramref name="count"/> deploy-like records from <paramref name="first"/> on (about 230 bytes each).</summary>
    internal static byte[] Body(int first, int count)
    {
        var text = new StringBuilder(count * 240);
        for (var i = first; i < first + count; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{{\"id\":{i},\"org\":\"acme\",\"pipeline\":\"service-{i % 50}\",\"commit\":\"{i:x8}9f2c1e0b7a6d5c4b3a2f1e0d9c8b7a6\",\"branch\":\"main\",\"message\":\"Deploy {i}\",\"author\":{{\"name\":\"Dev {i % 97}\",\"email\":\"dev{i % 97}@acme.example\"}},\"env\":{{\"REGION\":\"eu-{i % 3}\"}}}}\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
