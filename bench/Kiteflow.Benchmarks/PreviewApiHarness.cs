using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Cli.Commands;
using Kiteflow.Core.Planning;
using Kiteflow.Server;
using Kiteflow.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kiteflow.Benchmarks;

/// <summary>
/// The server's preview of unsaved settings (POST /api/v1/destinations/preview, 5 requests) on a dataset of a million
/// records, against what <c>kiteflow preview -n 5 --json</c> does on a JSON Lines file of the same records, measured in
/// one process, alternating in blocks. The comparison is the preview function against the endpoint: the CLI side is
/// <see cref="PreviewCommand.Run"/> itself (read the destination file, compile, open the input, plan, write the JSON)
/// without the process start, which is what a user's <c>kiteflow preview</c> spends besides starting .NET; the API side
/// is the whole HTTP round trip from a client on the loopback socket (login cookie, antiforgery, JSON body, settings
/// check, store reads, plan, JSON answer). Each keystroke changes the settings (a header), on both sides.
/// </summary>
internal static class PreviewApiHarness
{
    private const int Warmup = 50;

    private const int Block = 25;

    public static async Task<int> RunAsync(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        var requests = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 400;
        var input = Path.Combine(BenchSupport.WorkDirectory, $"preview-api-{records}.jsonl");
        GenerateInput(input, records);
        var settingsFile = Path.Combine(BenchSupport.Root, "examples", "trigger-builds", "destination.json");
        var settings = JsonNode.Parse(File.ReadAllText(settingsFile), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip })!.AsObject();

        var directory = Directory.CreateTempSubdirectory("kiteflow-preview-api-bench-").FullName;
        try
        {
            var app = KiteflowServer.Build(new ServerOptions
            {
                Urls = "http://127.0.0.1:0",
                DataDirectory = directory,
                AdminPassword = "bench-password",
                EmbeddedSandbox = false,
                Output = TextWriter.Null,
                ConfigureBuilder = builder => builder.Logging.SetMinimumLevel(LogLevel.Warning),
            });
            await app.StartAsync();
            await using (app)
            {
                var filling = Stopwatch.StartNew();
                var store = app.Services.GetRequiredService<IKiteflowStore>();
                var dataset = await store.Datasets.CreateAsync(new NewDataset("deploys", DatasetSource.Upload, new IngestKeySettings("x", "x", false), DateTimeOffset.UtcNow), CancellationToken.None);
                await FillAsync(store, dataset.Id, input);
                var count = (await store.Datasets.GetByIdAsync(dataset.Id, CancellationToken.None))!.RecordCount;
                Console.Error.WriteLine($"dataset: {count:N0} records appended in {filling.Elapsed.TotalSeconds:N1} s");

                using var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = new Uri(app.Urls.First()) };
                var session = await (await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = "bench-password" })).Content.ReadFromJsonAsync<JsonNode>();
                client.DefaultRequestHeaders.Add("X-CSRF-TOKEN", (string)session!["antiforgeryToken"]!);

                var destination = Path.Combine(directory, "destination.json");
                CheckSameDocument(client, settings, destination, input);

                // Blocks of each side in turn: machine noise falls on both alike, and each side runs as it would when
                // called again and again (one preview after the other is what typing makes), not woken from idle each time.
                var api = new List<double>();
                var cli = new List<double>();
                for (var block = 0; block < (Warmup + requests) / Block; block++)
                {
                    for (var i = block * Block; i < (block + 1) * Block; i++)
                    {
                        var elapsed = await PreviewApiAsync(client, settings, i);
                        if (i >= Warmup)
                        {
                            api.Add(elapsed);
                        }
                    }

                    for (var i = block * Block; i < (block + 1) * Block; i++)
                    {
                        var elapsed = PreviewCli(settings, i, destination, input);
                        if (i >= Warmup)
                        {
                            cli.Add(elapsed);
                        }
                    }
                }

                Console.WriteLine($"dataset and input: {count:N0} records (~{new FileInfo(input).Length / (1024 * 1024):N0} MiB as JSON Lines); {api.Count} previews each, alternating in blocks of {Block}, after {Warmup} warm-up; 5 requests a preview; a header changed every time");
                Console.WriteLine("| side | p50 | p95 | p99 | mean |");
                Console.WriteLine("|---|---:|---:|---:|---:|");
                Console.WriteLine(Row("kiteflow preview, in process (PreviewCommand.Run)", cli));
                Console.WriteLine(Row("POST /api/v1/destinations/preview, HTTP round trip", api));
                Console.WriteLine($"ratio API / CLI: p50 {Percentile(api, 50) / Percentile(cli, 50):N2}, p95 {Percentile(api, 95) / Percentile(cli, 95):N2}");

                // For scale: the whole kiteflow process, which a user runs, is dominated by starting .NET.
                var whole = Enumerable.Range(0, 5).Select(_ => BenchSupport.RunKiteflow(["preview", "-d", settingsFile, "-i", input, "-n", "5", "--json"], new Dictionary<string, string>()).Elapsed.TotalMilliseconds).ToList();
                Console.WriteLine($"for scale: kiteflow preview -n 5 --json as a whole process, median of 5: {Percentile(whole, 50):N0} ms");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<double> PreviewApiAsync(HttpClient client, JsonObject settings, int keystroke)
    {
        var body = new JsonObject { ["dataset"] = "deploys", ["settings"] = Keystroke(settings, keystroke), ["limit"] = 5 };
        var start = Stopwatch.GetTimestamp();
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/api/v1/destinations/preview", content);
        var answer = await response.Content.ReadAsByteArrayAsync();
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (!response.IsSuccessStatusCode || answer.Length == 0)
        {
            throw new InvalidOperationException($"preview answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer)}");
        }

        return elapsed;
    }

    private static double PreviewCli(JsonObject settings, int keystroke, string destination, string input)
    {
        // The file is saved before the clock starts: the CLI side times what kiteflow preview does with it.
        File.WriteAllText(destination, Keystroke(settings, keystroke).ToJsonString());
        var output = new StringWriter();
        var start = Stopwatch.GetTimestamp();
        var exitCode = PreviewCommand.Run(new FileInfo(destination), input, null, null, 5, asJson: true, output, TextWriter.Null);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (exitCode != 0 || output.GetStringBuilder().Length == 0)
        {
            throw new InvalidOperationException($"kiteflow preview exited {exitCode}");
        }

        return elapsed;
    }

    /// <summary>Both sides plan the same requests from the same records: the documents are equal but for the CLI's delivery-id prefix.</summary>
    private static void CheckSameDocument(HttpClient client, JsonObject settings, string destination, string input)
    {
        File.WriteAllText(destination, settings.ToJsonString());
        var output = new StringWriter();
        PreviewCommand.Run(new FileInfo(destination), input, null, null, 5, asJson: true, output, TextWriter.Null);
        var runKey = DeliveryIds.RunKey(File.ReadAllBytes(destination), input);
        var cli = JsonNode.Parse(output.ToString().Replace(runKey + "-", "preview-", StringComparison.Ordinal));
        var body = new JsonObject { ["dataset"] = "deploys", ["settings"] = settings.DeepClone(), ["limit"] = 5 };
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        var api = JsonNode.Parse(client.PostAsync("/api/v1/destinations/preview", content).GetAwaiter().GetResult().Content.ReadAsStringAsync().GetAwaiter().GetResult());
        if (!JsonNode.DeepEquals(cli, api))
        {
            throw new InvalidOperationException($"the two previews differ:\n{cli}\n{api}");
        }
    }

    private static JsonObject Keystroke(JsonObject settings, int keystroke)
    {
        var copy = settings.DeepClone().AsObject();
        copy["headers"] = $"X-Kiteflow-Source:release-train,X-Keystroke:{keystroke}";
        return copy;
    }

    private static async Task FillAsync(IKiteflowStore store, long datasetId, string input)
    {
        var batch = new List<ReadOnlyMemory<byte>>(5000);
        foreach (var line in File.ReadLines(input))
        {
            batch.Add(Encoding.UTF8.GetBytes(line));
            if (batch.Count == 5000)
            {
                await store.Datasets.AppendAsync(datasetId, new RecordBatch { Records = batch, At = DateTimeOffset.UtcNow }, CancellationToken.None);
                batch = new List<ReadOnlyMemory<byte>>(5000);
            }
        }

        if (batch.Count > 0)
        {
            await store.Datasets.AppendAsync(datasetId, new RecordBatch { Records = batch, At = DateTimeOffset.UtcNow }, CancellationToken.None);
        }
    }

    private static void GenerateInput(string path, int records)
    {
        if (File.Exists(path) && File.ReadLines(path).Take(records + 1).Count() == records)
        {
            return;
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        for (var first = 0; first < records; first += 10_000)
        {
            stream.Write(RecordGenerator.JsonLines(Math.Min(10_000, records - first), first));
        }
    }

    private static string Row(string name, List<double> times) =>
        $"| {name} | {Percentile(times, 50):N1} ms | {Percentile(times, 95):N1} ms | {Percentile(times, 99):N1} ms | {times.Average():N1} ms |";

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }
}
