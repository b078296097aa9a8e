using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>
/// Lag of an active destination (issue 9): a real <c>kiteflow serve</c> process delivers to a sandbox hosted by this
/// harness (generous limits); records are posted one at a time to <c>/ingest/{dataset}</c> at a steady pace, each
/// after the last was acknowledged. A record's lag is the time from its acknowledgement (read here) to the arrival of
/// the request that carries it at the sandbox (the sandbox's request log, same clock). Two destinations, one after
/// the other: batched (a batch per build, <c>lingerMs</c> 1000) and one request per record. Baselines from the same
/// run: the ingest round trip itself, and a bare POST from here to the sandbox (send to arrival) at the same pace.
/// </summary>
internal static class ServerLagHarness
{
    private const int LingerMs = 1000;
    private const int WarmUp = 10;

    private const string Single = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline","id"],
         "delivery":{"concurrency":4}}
        """;

    // A batch becomes one build whose message lists the records' markers: the batch is seen arriving, and it succeeds.
    private const string Batched = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds",
         "batching":{"enabled":true,"batchSize":100,"lingerMs":1000,"algorithm":"code",
                     "code":"function batch(records) { return { commit: records[0].commit, branch: records[0].branch, message: records.map(function (r) { return r.message; }).join(' ') }; }"},
         "delivery":{"concurrency":4}}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var perSecond = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var generous = RateLimitSetting.Parse("100000/60s");
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { OrganizationLimit = generous, UserLimit = generous, RequestLogCapacity = 200_000, RequestLogBodyLimit = 8192 });
        await using var serve = await ServeProcess.StartAsync();
        await serve.CreateCredentialAsync("bench", SandboxServer.DefaultToken, sandbox.BaseAddress);
        Console.WriteLine($"kiteflow serve (pid {serve.Pid}) → sandbox {sandbox.BaseAddress} (both limits {generous}); {records} records a scenario, one at a time, {perSecond} a second, after {WarmUp} warm-up records; {BenchSupport.Load()}");
        Console.WriteLine("| run | destination | records | lag p50 | lag p95 | lag max | first of a batch: p95 / max | target | ingest round trip p50 / p95 | bare POST to arrival p50 / p95 | load |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|");
        for (var run = 1; run <= runs; run++)
        {
            foreach (var batched in new[] { true, false })
            {
                var tag = $"{(batched ? "b" : "s")}{run}";
                var result = await ScenarioAsync(serve, sandbox, tag, batched ? Batched : Single, records, perSecond);
                var bare = await BarePostAsync(sandbox, tag, 50, perSecond);
                var target = batched ? LingerMs + 100 : 100;
                var met = result.Lags[(int)Math.Ceiling(0.95 * result.Lags.Count) - 1] <= target ? "met" : "**missed**";
                Console.WriteLine($"| {run} | {(batched ? $"batched (lingerMs {LingerMs})" : "one per record")} | {result.Lags.Count} | {Ms(result.Lags, 50)} | **{Ms(result.Lags, 95)}** | {result.Lags[^1]:N0} ms | {Ms(result.FirstOfBatch, 95)} / {(result.FirstOfBatch.Count > 0 ? result.FirstOfBatch[^1] : double.NaN):N0} ms | p95 ≤ {target} ms: {met} | {Ms(result.RoundTrips, 50)} / {Ms(result.RoundTrips, 95)} | {BenchSupport.Percentile(bare, 50):N1} / {BenchSupport.Percentile(bare, 95):N1} ms | {BenchSupport.Load()} |");
                Console.WriteLine($"|   | (requests {result.Requests}, builds {result.Builds}; warm-up lag max {result.WarmUpMax:N0} ms) | | | | | | | | | |");
            }
        }

        return 0;
    }

    private static string Ms(List<double> sorted, double p) => $"{BenchSupport.Percentile(sorted, p):N0} ms";

    private static async Task<Result> ScenarioAsync(ServeProcess serve, SandboxServer sandbox, string tag, string settings, int records, double perSecond)
    {
        var dataset = "lag-" + tag;
        var key = await serve.CreateDatasetAsync(dataset);
        await serve.CreateDestinationAsync(dataset, dataset, "bench", settings);
        await serve.ActivateAsync(dataset, onlyNew: true);
        await WaitForAsync(serve, dataset, s => (string)s["worker"]! == "waiting", TimeSpan.FromMinutes(2));

        // One record at a time: each is posted when its time comes (or at once, if the last answer came later).
        using var client = new HttpClient();
        var total = WarmUp + records;
        var acknowledged = new DateTimeOffset[total];
        var roundTrips = new List<double>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / perSecond);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            var json = $$"""{"id":{{i}},"org":"acme","pipeline":"web","commit":"{{i:x8}}{{new string('0', 32)}}","branch":"main","message":"{{Marker(tag, i)}}"}""";
            var sent = Stopwatch.GetTimestamp();
            await serve.IngestAsync(client, dataset, key, json);
            acknowledged[i] = DateTimeOffset.UtcNow;
            if (i >= WarmUp)
            {
                roundTrips.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        }

        // Every record's first arrival at the sandbox, from the bodies of the build requests.
        var arrivals = new Dictionary<string, (DateTimeOffset At, bool First)>();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        List<SandboxRequest> posts;
        do
        {
            await Task.Delay(500);
            posts = (await SandboxRequests.ReadAsync(sandbox)).Where(r => r.Method == "POST" && r.Body is not null && r.Body.Contains($"m{tag}-", StringComparison.Ordinal)).ToList();
            arrivals.Clear();
            foreach (var post in posts)
            {
                var markers = ((string?)JsonNode.Parse(post.Body!)!["message"] ?? string.Empty).Split(' ');
                for (var m = 0; m < markers.Length; m++)
                {
                    arrivals.TryAdd(markers[m], (post.Time, m == 0));
                }
            }
        }
        while (arrivals.Count < total && DateTime.UtcNow < deadline);

        if (arrivals.Count < total)
        {
            throw new InvalidOperationException($"{dataset}: only {arrivals.Count} of {total} records reached the sandbox in two minutes; status: {(await serve.StatusAsync(dataset)).ToJsonString()}\n{serve.RecentLog}");
        }

        var lags = new List<double>();
        var firstOfBatch = new List<double>();
        var warmUpMax = 0.0;
        for (var i = 0; i < total; i++)
        {
            var (at, first) = arrivals[Marker(tag, i)];
            var lag = (at - acknowledged[i]).TotalMilliseconds;
            if (i < WarmUp)
            {
                warmUpMax = Math.Max(warmUpMax, lag);
                continue;
            }

            lags.Add(lag);
            if (first)
            {
                firstOfBatch.Add(lag);
            }
        }

        var status = await serve.StatusAsync(dataset);
        lags.Sort();
        firstOfBatch.Sort();
        roundTrips.Sort();
        return new Result(lags, firstOfBatch, roundTrips, warmUpMax, (long)status["requests"]!, posts.Count(p => p.Status == 201));
    }

    /// <summary>The floor: a bare create-build POST from here to the sandbox, one at a time at the same pace, from send to arrival.</summary>
    private static async Task<List<double>> BarePostAsync(SandboxServer sandbox, string tag, int count, double perSecond)
    {
        using var client = new HttpClient { BaseAddress = sandbox.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", SandboxServer.DefaultToken);
        var sentAt = new Dictionary<string, DateTimeOffset>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count + 5; i++)
        {
            var due = TimeSpan.FromSeconds(i / perSecond);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            var marker = $"bare{tag}-{i}";
            sentAt[marker] = DateTimeOffset.UtcNow;
            using var response = await client.PostAsJsonAsync("v2/organizations/acme/pipelines/web/builds", new { commit = "HEAD", branch = "main", message = marker });
            response.EnsureSuccessStatusCode();
        }

        var lags = new List<double>();
        foreach (var post in (await SandboxRequests.ReadAsync(sandbox)).Where(r => r.Method == "POST" && r.Body is not null && r.Body.Contains($"bare{tag}-", StringComparison.Ordinal)))
        {
            var marker = (string)JsonNode.Parse(post.Body!)!["message"]!;
            if (int.Parse(marker[(marker.IndexOf('-', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture) >= 5)
            {
                lags.Add((post.Time - sentAt[marker]).TotalMilliseconds);
            }
        }

        lags.Sort();
        return lags;
    }

    private static string Marker(string tag, int i) => $"m{tag}-{i}";

    internal static async Task WaitForAsync(ServeProcess serve, string destination, Func<JsonNode, bool> done, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        JsonNode status;
        do
        {
            status = await serve.StatusAsync(destination);
            if (done(status))
            {
                return;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new InvalidOperationException($"{destination} never got there; status: {status.ToJsonString()}\n{serve.RecentLog}");
    }

    private sealed record Result(List<double> Lags, List<double> FirstOfBatch, List<double> RoundTrips, double WarmUpMax, long Requests, int Builds);
}
