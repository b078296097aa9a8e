using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Xunit.Abstractions;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// A real <c>kiteflow serve</c> process killed with SIGKILL while a destination delivers against a faulty sandbox (in
/// this process, so it outlives the server and keeps every build), restarted on the same data folder each time, while a
/// client keeps ingesting: every record acknowledged is kept, and every record becomes exactly one build.
/// </summary>
public sealed class ServerCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Kills = 3;
    private const int InitialRecords = 300;
    private const int IngestBatchesPerLife = 24;
    private const int RecordsPerIngest = 2;

    private const string Trigger = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":4,"maxAttempts":10}}
        """;

    private readonly string _data = Directory.CreateTempSubdirectory("kiteflow-crash-").FullName;
    private SandboxServer _sandbox = null!;

    public async Task InitializeAsync()
    {
        var options = new SandboxOptions
        {
            OrganizationLimit = RateLimitSetting.Parse("100000/60s"),
            UserLimit = RateLimitSetting.Parse("100000/60s"),
            RandomSeed = 20260901,
        };
        const string builds = "/v2/organizations/*/pipelines/*/builds";

        // 5xx before and after the build is made, connections dropped before and after, and slow answers that keep
        // calls in flight when the server dies. Lookups fail now and then too.
        foreach (var rule in new SandboxFaultRule[]
        {
            new() { Method = "POST", Path = builds, When = SandboxFaultWhen.Before, Status = 503, Probability = 0.08 },
            new() { Method = "POST", Path = builds, When = SandboxFaultWhen.After, Status = 502, Probability = 0.08 },
            new() { Method = "POST", Path = builds, When = SandboxFaultWhen.Before, Action = SandboxFaultAction.Drop, Probability = 0.04 },
            new() { Method = "POST", Path = builds, When = SandboxFaultWhen.After, Action = SandboxFaultAction.Drop, Probability = 0.04 },
            new() { Method = "POST", Path = builds, Action = SandboxFaultAction.Delay, DelayMs = 150, Probability = 0.25 },
            new() { Method = "GET", Path = builds, When = SandboxFaultWhen.Before, Status = 503, Probability = 0.05 },
        })
        {
            options.Faults.Add(rule);
        }

        _sandbox = await SandboxServer.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        await _sandbox.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [UnixFact]
    public async Task KilledDuringDelivery_RestartedOnTheSameData_EveryRecordOneBuild_StatusAddsUp_NoAcknowledgedIngestLost()
    {
        var server = await ServeProcess.StartAsync(_data);
        var key = await server.CreateApiKeyAsync();
        string ingestKey;
        using (var api = ServerApi.WithKey(server.BaseAddress, key))
        {
            await api.CreateCredentialAsync("external", SandboxServer.DefaultToken, _sandbox.BaseAddress);
            ingestKey = await api.CreateDatasetAsync("deploys");
            await api.UploadAsync("deploys", Records(0, InitialRecords));
            await api.CreateDestinationAsync("trigger", "deploys", "external", Trigger);
            await api.PostAsync("/api/v1/destinations/trigger/activate");
        }

        var ingester = new Ingester(ingestKey, server.BaseAddress);
        var ingesting = ingester.RunAsync(IngestBatchesPerLife * (Kills + 1), IngestBatchesPerLife, firstRecord: InitialRecords);
        try
        {
            for (var kill = 1; kill <= Kills; kill++)
            {
                // Kill while the destination is delivering (builds keep arriving in this life) and ingest requests are under way.
                var buildsAtStart = ServerApi.Builds(_sandbox).Count;
                var acknowledgedAtStart = ingester.Acknowledged;
                await Eventually.UntilAsync(() => ServerApi.Builds(_sandbox).Count >= buildsAtStart + 15 && ingester.Acknowledged >= acknowledgedAtStart + (IngestBatchesPerLife / 2), $"delivery and ingest under way before kill {kill}");
                await server.KillAsync();
                output.WriteLine($"kill {kill}: {ServerApi.Builds(_sandbox).Count} builds, {ingester.Acknowledged} ingest requests acknowledged, {ingester.Interrupted} interrupted so far");
                server.Dispose();

                server = await ServeProcess.StartAsync(_data);
                ingester.Restarted(server.BaseAddress, final: kill == Kills);
            }

            await ingesting.WaitAsync(Eventually.Deadline);
            using var final = ServerApi.WithKey(server.BaseAddress, key);
            const int expected = InitialRecords + (IngestBatchesPerLife * (Kills + 1) * RecordsPerIngest);
            var status = await final.WaitForStatusAsync("trigger", s => (long)s["datasetRecords"]! == expected && (long)s["lag"]! == 0 && (string)s["worker"]! == "waiting");

            // No acknowledged ingest lost, none appended twice: every batch's records are at the offsets its answer gave.
            var records = await final.RecordsAsync("deploys");
            Assert.Equal(expected, records.Count);
            var commitAt = records.ToDictionary(r => r.Offset, r => (string)r.Record["commit"]!);
            Assert.Equal(expected, commitAt.Values.Distinct().Count());
            foreach (var batch in ingester.Batches)
            {
                Assert.Equal<string?>(batch.Commits, Enumerable.Range(0, batch.Commits.Count).Select(i => commitAt.GetValueOrDefault(batch.FirstOffset + i)));
            }

            // Every record delivered exactly once: one build per record, matched by commit.
            var builds = ServerApi.Builds(_sandbox);
            var perCommit = builds.GroupBy(b => (string)b["commit"]!).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(commitAt.Values.Order(StringComparer.Ordinal), perCommit.Keys.Order(StringComparer.Ordinal));
            Assert.All(perCommit, pair => Assert.True(pair.Value == 1, $"commit {pair.Key} made {pair.Value} builds"));

            // The status adds up.
            Assert.True((long)status["delivered"]! + (long)status["rejected"]! + (long)status["possiblyDelivered"]! == expected, status.ToJsonString());
            Assert.Equal((expected, 0L, 0L, (long)expected), ((long)status["delivered"]!, (long)status["rejected"]!, (long)status["possiblyDelivered"]!, (long)status["cursor"]!));
            var runs = (await final.Client.GetFromJsonAsync<JsonArray>("/api/v1/destinations/trigger/runs"))!;
            Assert.Equal(Kills + 1, runs.Count);
            output.WriteLine($"{builds.Count} builds; {ingester.Interrupted} ingest requests interrupted by a kill and retried; status {status.ToJsonString()}");
        }
        finally
        {
            ingester.Stop();
            server.Dispose();
        }
    }

    private static string Records(int first, int count) => string.Concat(Enumerable.Range(first, count).Select(i => Record(i) + "\n"));

    private static string Record(int i) =>
        $$"""{"org":"acme","pipeline":"{{(i % 3) switch { 0 => "web", 1 => "api", _ => "docs" }}}","commit":"{{Commit(i)}}","branch":"main","message":"deploy {{i}}"}""";

    private static string Commit(int i) => $"{i:x8}{new string('c', 32)}";

    /// <summary>
    /// A client that keeps ingesting, <see cref="IngestBatchesPerLife"/> requests per server life, each with an
    /// Idempotency-Key; a request the kill cut is sent again, with the same key, to the restarted server.
    /// </summary>
    private sealed class Ingester(string ingestKey, Uri firstAddress)
    {
        private readonly Lock _lock = new();
        private readonly List<Batch> _batches = [];
        private readonly CancellationTokenSource _stop = new();
        private TaskCompletionSource<Uri> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Uri _address = firstAddress;
        private int _interrupted;
        private bool _final;

        public int Acknowledged
        {
            get
            {
                lock (_lock)
                {
                    return _batches.Count;
                }
            }
        }

        public int Interrupted => Volatile.Read(ref _interrupted);

        public IReadOnlyList<Batch> Batches
        {
            get
            {
                lock (_lock)
                {
                    return [.. _batches];
                }
            }
        }

        /// <summary>The server listens again, at <paramref name="address"/>.</summary>
        public void Restarted(Uri address, bool final)
        {
            lock (_lock)
            {
                _address = address;
                _final = final;
                _next.TrySetResult(address);
                _next = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Stop() => _stop.Cancel();

        public async Task RunAsync(int requests, int perLife, int firstRecord)
        {
            using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = TimeSpan.Zero });
            var sentThisLife = 0;
            for (var request = 0; request < requests; request++)
            {
                Task<Uri> restarted;
                bool final;
                lock (_lock)
                {
                    restarted = _next.Task;
                    final = _final;
                }

                if (sentThisLife >= perLife && !final)
                {
                    // This life's share is sent: the rest goes to the next one (the last life takes what is left).
                    await restarted.WaitAsync(_stop.Token);
                    sentThisLife = 0;
                }

                var records = Enumerable.Range(firstRecord + (request * RecordsPerIngest), RecordsPerIngest).ToList();
                var body = string.Concat(records.Select(i => Record(i) + "\n"));
                while (true)
                {
                    Uri address;
                    lock (_lock)
                    {
                        address = _address;
                        restarted = _next.Task;
                    }

                    using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(address, "/ingest/deploys")) { Content = new StringContent(body, Encoding.UTF8, "application/x-ndjson") };
                    message.Headers.Authorization = new("Bearer", ingestKey);
                    message.Headers.Add("Idempotency-Key", $"ingest-{request}");
                    HttpStatusCode status;
                    string text;
                    try
                    {
                        using var response = await http.SendAsync(message, _stop.Token);
                        status = response.StatusCode;
                        text = await response.Content.ReadAsStringAsync(_stop.Token);
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException)
                    {
                        // The server died under the request (or before it): wait for the next one and send it again.
                        Interlocked.Increment(ref _interrupted);
                        await restarted.WaitAsync(_stop.Token);
                        sentThisLife = 0;
                        continue;
                    }

                    Assert.True(status == HttpStatusCode.OK, $"ingest {request}: {(int)status} {text}");
                    var answer = JsonNode.Parse(text)!;
                    Assert.Equal(RecordsPerIngest, (int)answer["count"]!);
                    lock (_lock)
                    {
                        _batches.Add(new Batch((long)answer["firstOffset"]!, [.. records.Select(Commit)]));
                    }

                    sentThisLife++;
                    break;
                }
            }
        }
    }

    private sealed record Batch(long FirstOffset, List<string> Commits);
}
