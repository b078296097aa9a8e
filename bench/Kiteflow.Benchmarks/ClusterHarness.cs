using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Benchmarks;

/// <summary>
/// A cluster of real <c>kiteflow serve</c> processes on one throwaway PostgreSQL (issue 11): one api silo and 1, 2 or 4
/// worker silos, 4 organizations × 200 records (one destination per organization, one create-build per record,
/// concurrency 4) against a sandbox hosted here with the organization limit scaled down to 20 per 2 s. Reported: the
/// time from the first call to the last against the least time the limits allow for the same calls (per organization,
/// from the sandbox's request log), and the 429s. Then failover: with 2 workers, the worker holding the most
/// destinations is killed with SIGKILL a quarter of the way through; the time from the kill to the next build of one of
/// its destinations, with the settings that bound it (probe 3 s, 3 missed probes, lease 10 s).
/// </summary>
internal static class ClusterHarness
{
    private const int Organizations = 4;
    private const int Records = 200;
    private static readonly RateLimitSetting OrganizationLimit = RateLimitSetting.Parse("20/2s");
    private static readonly RateLimitSetting UserLimit = RateLimitSetting.Parse("100000/2s");

    private const string Settings = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline","id"],
         "delivery":{"concurrency":4}}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        // cluster [WORKERS…] [failover]
        var counts = args.Where(a => int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out _)).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToList();
        var failover = args.Length == 0 || args.Contains("failover");
        if (counts.Count == 0 && args.Length == 0)
        {
            counts = [1, 2, 4];
        }

        var rows = new List<string>();
        try
        {
            foreach (var workers in counts)
            {
                rows.Add(await MeasureAsync(workers));
            }

            string? failoverRow = failover ? await FailoverAsync() : null;
            Console.WriteLine();
            Console.WriteLine($"| workers | ratio to the least time (worst organization) | first to last call | 429s | destinations per worker | load |");
            Console.WriteLine("|---:|---:|---:|---:|---|---|");
            rows.ForEach(Console.WriteLine);
            if (failoverRow is not null)
            {
                Console.WriteLine();
                Console.WriteLine(failoverRow);
            }
        }
        finally
        {
            await BenchStore.StopServerAsync();
        }

        return 0;
    }

    private static async Task<string> MeasureAsync(int workers)
    {
        await using var cluster = await Cluster.StartAsync(workers);
        await cluster.ClearRequestLogAsync();
        var load = BenchSupport.Load();
        await Task.WhenAll(Enumerable.Range(0, Organizations).Select(d => cluster.Api.ActivateAsync($"dest{d}", onlyNew: false)));
        var statuses = await cluster.WaitForAllAsync();

        var log = await SandboxRequests.ReadAsync(cluster.Sandbox);
        var ratios = new List<double>();
        for (var d = 0; d < Organizations; d++)
        {
            var admitted = OrganizationCalls(log, d).Where(r => r.Status is not null and not 429).Select(r => r.Time).ToList();
            var least = RateWindows.LeastEnd(admitted, OrganizationLimit, UserLimit) - admitted[0];
            ratios.Add((admitted[^1] - admitted[0]).TotalSeconds / least.TotalSeconds);
        }

        var calls = log.Where(r => r.Path.StartsWith("/v2/organizations/", StringComparison.Ordinal)).ToList();
        var refused = calls.Count(r => r.Status == 429);
        var spread = string.Join(", ", statuses.GroupBy(s => (string?)s["silo"] ?? "?").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}"));
        var span = calls.Where(r => r.Status is not null and not 429).Select(r => r.Time).ToList();
        Console.WriteLine($"--- {workers} worker(s): {Organizations} organizations × {Records} records, organization {OrganizationLimit}; ratios per organization {string.Join(", ", ratios.Select(r => r.ToString("N3", CultureInfo.InvariantCulture)))}; 429s {refused}; {spread}");
        return $"| {workers} | {ratios.Max():N3} | {(span.Max() - span.Min()).TotalSeconds:N1} s | {refused} | {spread} | {load} |";
    }

    private static async Task<string> FailoverAsync()
    {
        await using var cluster = await Cluster.StartAsync(workers: 2);
        await cluster.ClearRequestLogAsync();
        await Task.WhenAll(Enumerable.Range(0, Organizations).Select(d => cluster.Api.ActivateAsync($"dest{d}", onlyNew: false)));

        // A quarter of the way through: the worker holding the most destinations dies.
        while (Builds(cluster.Sandbox) < Organizations * Records / 4)
        {
            await Task.Delay(50);
        }

        var holders = new Dictionary<string, List<int>>();
        for (var d = 0; d < Organizations; d++)
        {
            var silo = (string?)(await cluster.Api.StatusAsync($"dest{d}"))["silo"] ?? "?";
            (holders.TryGetValue(silo, out var list) ? list : holders[silo] = []).Add(d);
        }

        var (victim, moved) = holders.OrderByDescending(h => h.Value.Count).First();
        var killedAt = DateTimeOffset.UtcNow;
        await cluster.Worker(victim).KillAsync();
        await cluster.WaitForAllAsync();

        var log = await SandboxRequests.ReadAsync(cluster.Sandbox);
        var resumed = moved.Select(d => OrganizationCalls(log, d).First(r => r.Time > killedAt && r.Method == "POST" && r.Status == 201).Time).ToList();
        var first = (resumed.Min() - killedAt).TotalSeconds;
        var last = (resumed.Max() - killedAt).TotalSeconds;
        foreach (var (name, process) in cluster.Workers.Where(w => w.Name != victim))
        {
            foreach (var (at, line) in process.ClusterEvents.Where(e => e.At > killedAt))
            {
                Console.WriteLine($"    {name} +{(at - killedAt).TotalSeconds:N2} s: {line}");
            }
        }

        Console.WriteLine($"--- failover: killed {victim} holding {string.Join(", ", moved.Select(d => $"dest{d}"))} at {Builds(cluster.Sandbox)} builds; next builds of its destinations after {string.Join(", ", resumed.Select(t => $"{(t - killedAt).TotalSeconds:N1} s"))}");
        return $"Failover (2 workers, kill -9 of the one holding {moved.Count} of {Organizations} destinations): its destinations built again after {first:N1} s (first) to {last:N1} s (last); membership probe 3 s × 2 missed probes, destination lease 6 s; every record one build: {OneBuildEach(cluster.Sandbox)}.";
    }

    private static int Builds(SandboxServer sandbox) =>
        JsonNode.Parse(sandbox.GetStateJson())!["organizations"]!.AsArray().Sum(o => o!["builds"]!.AsArray().Count);

    private static bool OneBuildEach(SandboxServer sandbox)
    {
        var commits = JsonNode.Parse(sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => (string)b!["commit"]!).ToList();
        return commits.Count == Organizations * Records && commits.Distinct().Count() == commits.Count;
    }

    private static IEnumerable<SandboxRequest> OrganizationCalls(List<SandboxRequest> log, int destination) =>
        log.Where(r => r.Path.StartsWith($"/v2/organizations/{Org(destination)}/", StringComparison.Ordinal));

    private static string Org(int destination) => $"org{destination + 1}";

    /// <summary>One api silo and some worker silos on a fresh database, a sandbox, and the destinations as drafts.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly List<(string Name, ServeProcess Process)> _workers = [];
        private readonly List<IAsyncDisposable> _owned = [];

        private Cluster(SandboxServer sandbox, ServeProcess api)
        {
            Sandbox = sandbox;
            Api = api;
        }

        public SandboxServer Sandbox { get; }

        public ServeProcess Api { get; }

        public ServeProcess Worker(string name) => _workers.First(w => w.Name == name).Process;

        public IReadOnlyList<(string Name, ServeProcess Process)> Workers => _workers;

        public static async Task<Cluster> StartAsync(int workers)
        {
            var store = await BenchStore.OpenAsync("postgres-unflushed");
            var seed = Path.Combine(Path.GetTempPath(), $"kiteflow-cluster-bench-seed-{Guid.NewGuid():N}.json");
            await File.WriteAllTextAsync(seed, Seed());
            var sandbox = await SandboxServer.StartAsync(new SandboxOptions { SeedFile = seed, OrganizationLimit = OrganizationLimit, UserLimit = UserLimit, RequestLogCapacity = 100_000 });
            File.Delete(seed);
            var environment = new Dictionary<string, string>
            {
                ["KITEFLOW_STORE"] = store.ServerStore!,
                ["KITEFLOW_MASTER_KEY"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            };
            var api = await ServeProcess.StartAsync(SiloArgs("api", "api"), environment, logIn: true);
            var cluster = new Cluster(sandbox, api);
            cluster._owned.Add(store);
            for (var w = 1; w <= workers; w++)
            {
                cluster._workers.Add(($"w{w}", await ServeProcess.StartAsync(SiloArgs("worker", $"w{w}"), environment, logIn: false)));
            }

            await api.CreateCredentialAsync("bench", SandboxServer.DefaultToken, sandbox.BaseAddress);
            for (var d = 0; d < Organizations; d++)
            {
                await api.CreateDatasetAsync($"ds{d}");
                var lines = new StringBuilder();
                for (var k = 0; k < Records; k++)
                {
                    lines.Append(CultureInfo.InvariantCulture, $$"""{"id":{{k}},"org":"{{Org(d)}}","pipeline":"web","commit":"{{d:x4}}{{k:x4}}{{new string('0', 32)}}","branch":"main","message":"c{{d}}-{{k}}"}""").Append('\n');
                }

                await api.UploadAsync($"ds{d}", lines.ToString());
                await api.CreateDestinationAsync($"dest{d}", $"ds{d}", "bench", Settings);
            }

            return cluster;
        }

        public async Task ClearRequestLogAsync()
        {
            using var http = new HttpClient();
            (await http.DeleteAsync(new Uri(Sandbox.BaseAddress, "/_sandbox/requests"))).EnsureSuccessStatusCode();
        }

        /// <summary>Waits until every destination settled its records; the statuses.</summary>
        public async Task<List<JsonNode>> WaitForAllAsync()
        {
            var statuses = new List<JsonNode>();
            for (var d = 0; d < Organizations; d++)
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
                while (true)
                {
                    var response = await Api.Api.GetAsync($"/api/v1/destinations/dest{d}/status");
                    if (response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<JsonNode>() is { } status
                        && (long)status["delivered"]! + (long)status["rejected"]! + (long)status["possiblyDelivered"]! == Records && (long)status["lag"]! == 0)
                    {
                        statuses.Add(status);
                        break;
                    }

                    if (DateTime.UtcNow > deadline)
                    {
                        throw new InvalidOperationException($"dest{d} did not finish in 10 minutes:\n{Api.RecentLog}");
                    }

                    await Task.Delay(100);
                }
            }

            return statuses;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var (_, worker) in _workers)
            {
                await worker.DisposeAsync();
            }

            await Api.DisposeAsync();
            await Sandbox.DisposeAsync();
            foreach (var owned in _owned)
            {
                await owned.DisposeAsync();
            }
        }

        private static string[] SiloArgs(string role, string name) =>
            ["--role", role, "--silo-name", name, "--silo-address", "127.0.0.1",
             "--silo-port", BenchSupport.FreePort().ToString(CultureInfo.InvariantCulture), "--gateway-port", BenchSupport.FreePort().ToString(CultureInfo.InvariantCulture)];

        private static string Seed()
        {
            var orgs = new JsonArray();
            for (var d = 0; d < Organizations; d++)
            {
                orgs.Add(new JsonObject
                {
                    ["slug"] = Org(d),
                    ["members"] = new JsonArray(new JsonObject { ["user"] = "admin@sandbox.example", ["role"] = "admin" }),
                    ["pipelines"] = new JsonArray(new JsonObject { ["name"] = "web", ["repository"] = $"git@github.com:{Org(d)}/web.git", ["configuration"] = "steps:\n  - command: make\n" }),
                });
            }

            return new JsonObject
            {
                ["users"] = new JsonArray(new JsonObject { ["name"] = "Sandbox Admin", ["email"] = "admin@sandbox.example" }),
                ["tokens"] = new JsonArray(new JsonObject { ["token"] = SandboxServer.DefaultToken, ["scopes"] = new JsonArray("*"), ["user"] = "admin@sandbox.example" }),
                ["organizations"] = orgs,
            }.ToJsonString();
        }
    }
}
