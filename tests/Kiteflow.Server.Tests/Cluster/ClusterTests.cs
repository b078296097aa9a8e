using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Kiteflow.Testing.Postgres;
using Npgsql;
using Xunit.Abstractions;

namespace Kiteflow.Server.Tests.Cluster;

/// <summary>
/// A cluster of real <c>kiteflow serve</c> processes — one api silo and worker silos — on one throwaway PostgreSQL and a
/// sandbox in this process that outlives them: records ingested while destinations of several organizations deliver,
/// a worker joining while destinations deliver, workers killed with SIGKILL, and a worker paused with SIGSTOP while its
/// destinations move, then resumed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(PostgresServerFixture postgres, ITestOutputHelper output)
{
    private static readonly string[] Organizations = ["o1", "o2", "o3", "o4"];

    [UnixFact]
    public async Task ApiAndTwoWorkers_IngestWhileDelivering_EveryRecordOneBuild_NoOrganizationOverItsLimit()
    {
        const int destinations = 20, initial = 25, ingested = 10, limit = 20;
        var window = TimeSpan.FromSeconds(2);
        await using var rig = await ClusterRig.StartAsync(postgres, Organizations, $"{limit}/2s");
        var passed = false;
        try
        {
            var api = await rig.StartSiloAsync("api", "api");
            var w1 = await rig.StartSiloAsync("worker", "w1");
            await rig.StartSiloAsync("worker", "w2");
            var key = await api.CreateApiKeyAsync();
            using var client = ServerApi.WithKey(api.BaseAddress, key);

            // /healthz of the api silo names the store and the three active silos.
            await Eventually.UntilAsync(
                async () =>
                {
                    var health = JsonNode.Parse(await client.Client.GetStringAsync("/healthz"))!;
                    return (string)health["status"]! == "Healthy" && (string)health["cluster"]!["role"]! == "api"
                        && health["cluster"]!["activeSilos"]!.AsArray().Select(s => (string)s!["name"]!).Order(StringComparer.Ordinal).SequenceEqual(["api", "w1", "w2"]);
                },
                "the api silo to see the three silos active");

            var ingestKeys = await CreateDestinationsAsync(client, rig, destinations, initial);
            await ClearRequestLogAsync(rig.Sandbox);
            await Task.WhenAll(Enumerable.Range(0, destinations).Select(d => client.PostAsync($"/api/v1/destinations/dest{d}/activate")));

            // Records ingested through the api silo while the workers deliver: the workers see them by polling the store.
            for (var next = initial; next < initial + ingested; next += 2)
            {
                for (var d = 0; d < destinations; d++)
                {
                    await ClusterRig.IngestAsync(api.BaseAddress, $"ds{d}", ingestKeys[d], ClusterRig.Records(Organizations[d % Organizations.Length], d, next, 2));
                }
            }

            var statuses = await ClusterRig.WaitForAllSettledAsync(client, Names(destinations), _ => initial + ingested);

            // Every record delivered exactly once, by a worker silo.
            AssertOneBuildPerRecord(rig.Sandbox, destinations, initial + ingested);
            foreach (var (name, status) in statuses)
            {
                Assert.Equal(((long)(initial + ingested), 0L, 0L), ((long)status["delivered"]!, (long)status["rejected"]!, (long)status["possiblyDelivered"]!));
                Assert.Contains((string?)status["silo"], new[] { "w1", "w2" });
            }

            // However Orleans placed them when they were activated together, the workers evened them out: half each.
            Assert.Equal(destinations / 2, statuses.Count(s => (string?)s.Value["silo"] == "w1"));

            // No organization over its limit: the budget of each organization is one grain for the whole cluster, so the
            // two workers together pace as one; a request over the limit would have been answered 429.
            await AssertPacedTogetherAsync(rig.Sandbox, window, limit, statuses);

            // A worker serves /healthz and /metrics (labelled with its silo), not the API.
            var workerHealth = JsonNode.Parse(await new HttpClient { BaseAddress = w1.BaseAddress }.GetStringAsync("/healthz"))!;
            Assert.Equal(("worker", "w1"), ((string)workerHealth["cluster"]!["role"]!, (string)workerHealth["cluster"]!["silo"]!));
            using var worker = ServerApi.WithKey(w1.BaseAddress, key);
            Assert.Contains("service_instance_id=\"w1\"", await worker.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
            Assert.False((await worker.Client.GetAsync("/api/v1/datasets")).IsSuccessStatusCode);
            passed = true;
        }
        finally
        {
            if (!passed)
            {
                rig.Report(output);
            }
        }
    }

    [UnixFact]
    public async Task WorkersKilledDuringDelivery_TheirDestinationsMove_NothingLost_NoDuplicateBuild()
    {
        const int destinations = 4, records = 100, kills = 2;
        await using var rig = await ClusterRig.StartAsync(postgres, Organizations, "10/2s", options =>
        {
            const string builds = "/v2/organizations/*/pipelines/*/builds";
            options.Faults.Add(new() { Method = "POST", Path = builds, When = SandboxFaultWhen.Before, Status = 503, Probability = 0.05 });
            options.Faults.Add(new() { Method = "POST", Path = builds, When = SandboxFaultWhen.After, Status = 502, Probability = 0.05 });
            options.Faults.Add(new() { Method = "POST", Path = builds, When = SandboxFaultWhen.After, Action = SandboxFaultAction.Drop, Probability = 0.03 });
            options.Faults.Add(new() { Method = "POST", Path = builds, Action = SandboxFaultAction.Delay, DelayMs = 150, Probability = 0.25 });
        });
        var passed = false;
        try
        {
            var api = await rig.StartSiloAsync("api", "api");
            await rig.StartSiloAsync("worker", "w1");
            await rig.StartSiloAsync("worker", "w2");
            using var client = ServerApi.WithKey(api.BaseAddress, await api.CreateApiKeyAsync());
            await CreateDestinationsAsync(client, rig, destinations, records);
            await Task.WhenAll(Enumerable.Range(0, destinations).Select(d => client.PostAsync($"/api/v1/destinations/dest{d}/activate")));

            var alive = new List<string> { "w1", "w2" };
            var killed = 0;
            for (var kill = 1; kill <= kills; kill++)
            {
                var before = ServerApi.Builds(rig.Sandbox).Count;
                await Eventually.UntilAsync(() => ServerApi.Builds(rig.Sandbox).Count >= Math.Min(before + 10, destinations * records), $"delivery under way before kill {kill}");
                if (ServerApi.Builds(rig.Sandbox).Count >= destinations * records)
                {
                    break;
                }

                // The worker that holds the most destinations still delivering.
                var holders = new List<string>();
                foreach (var name in Names(destinations))
                {
                    if (await ClusterRig.TryStatusAsync(client, name) is { } status && (long)status["lag"]! > 0 && (string?)status["silo"] is { } silo)
                    {
                        holders.Add(silo);
                    }
                }

                var victim = holders.Where(alive.Contains).GroupBy(h => h).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault() ?? alive[0];
                await rig.Silo(victim).KillAsync();
                killed++;
                alive.Remove(victim);
                output.WriteLine($"kill {kill}: {victim} (holding {holders.Count(h => h == victim)} destinations) at {ServerApi.Builds(rig.Sandbox).Count} builds");
                var replacement = $"w{2 + kill}";
                await rig.StartSiloAsync("worker", replacement);
                alive.Add(replacement);
            }

            var statuses = await ClusterRig.WaitForAllSettledAsync(client, Names(destinations), _ => records);
            AssertOneBuildPerRecord(rig.Sandbox, destinations, records);
            foreach (var (name, status) in statuses)
            {
                Assert.True((long)status["delivered"]! == records && (long)status["cursor"]! == records, $"{name}: {status.ToJsonString()}");
            }

            Assert.True(killed >= 1, "no worker was killed while delivering");
            output.WriteLine($"{killed} kills; {ServerApi.Builds(rig.Sandbox).Count} builds; silos at the end: {string.Join(", ", statuses.Select(s => $"{s.Key}@{s.Value["silo"]}"))}");
            passed = true;
        }
        finally
        {
            if (!passed)
            {
                rig.Report(output);
            }
        }
    }

    [UnixFact]
    public async Task WorkerPausedWhileItsDestinationsMove_ThenResumed_SendsAndSettlesNothingStale()
    {
        const int destinations = 4, records = 100;
        await using var rig = await ClusterRig.StartAsync(postgres, Organizations, "10/2s", options =>
        {
            // Slow answers keep calls in flight when the worker is paused.
            options.Faults.Add(new() { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds", Action = SandboxFaultAction.Delay, DelayMs = 300, Probability = 0.5 });
        });
        var passed = false;
        try
        {
            var api = await rig.StartSiloAsync("api", "api");
            var paused = await rig.StartSiloAsync("worker", "w1");
            using var client = ServerApi.WithKey(api.BaseAddress, await api.CreateApiKeyAsync());
            await CreateDestinationsAsync(client, rig, destinations, records);
            await Task.WhenAll(Enumerable.Range(0, destinations).Select(d => client.PostAsync($"/api/v1/destinations/dest{d}/activate")));
            foreach (var name in Names(destinations))
            {
                Assert.Equal("w1", (string?)(await client.StatusAsync(name))["silo"]);
            }

            // w2 joins and gets half of them; then w1 stops dead (SIGSTOP) with the other half delivering.
            await rig.StartSiloAsync("worker", "w2");
            var onPaused = new List<string>();
            await Eventually.UntilAsync(
                async () =>
                {
                    onPaused = (await SilosAsync(client, destinations)).Where(d => d.Silo == "w1").Select(d => d.Name).ToList();
                    return onPaused.Count == destinations / 2;
                },
                () => $"w1 to give half of the destinations to w2 (w1 has {string.Join(", ", onPaused)})");
            var beforePause = ServerApi.Builds(rig.Sandbox).Count;
            await Eventually.UntilAsync(() => ServerApi.Builds(rig.Sandbox).Count >= beforePause + 8, "delivery under way on both workers");
            paused.Signal("STOP");
            var atPause = ServerApi.Builds(rig.Sandbox).Count;

            // The cluster declares w1 dead; its destinations come back on w2, which waits out w1's leases and finishes them.
            var statuses = await ClusterRig.WaitForAllSettledAsync(client, Names(destinations), _ => records);
            Assert.All(statuses, s => Assert.Equal("w2", (string?)s.Value["silo"]));

            // w1 runs again: it finds its leases lost and itself declared dead, and stops without a call or a write.
            paused.Signal("CONT");
            await Eventually.UntilAsync(() => paused.HasExited || paused.Errors.Split('\n').Count(l => l.Contains("stopped on this silo", StringComparison.Ordinal)) >= onPaused.Count, "the resumed worker to stop");
            output.WriteLine($"paused at {atPause} builds with {string.Join(", ", onPaused)} on it; w1 {(paused.HasExited ? "exited" : "is still running")}; its last log lines:\n{string.Join('\n', paused.Errors.Split('\n').TakeLast(8))}");

            AssertOneBuildPerRecord(rig.Sandbox, destinations, records);
            await using var source = NpgsqlDataSource.Create(rig.ConnectionString);
            await using (var ledger = source.CreateCommand("SELECT state, count(*) FROM ledger WHERE run LIKE 'd%' GROUP BY state"))
            await using (var reader = await ledger.ExecuteReaderAsync())
            {
                var states = new Dictionary<string, long>();
                while (await reader.ReadAsync())
                {
                    states[reader.GetString(0)] = reader.GetInt64(1);
                }

                Assert.Equal(new Dictionary<string, long> { ["delivered"] = destinations * records }, states);
            }

            await using (var progress = source.CreateCommand("SELECT count(*) FROM destination_progress WHERE cursor = $1 AND claim_from IS NULL AND delivered = $1"))
            {
                progress.Parameters.AddWithValue((long)records);
                Assert.Equal((long)destinations, (long)(await progress.ExecuteScalarAsync())!);
            }
            passed = true;
        }
        finally
        {
            if (!passed)
            {
                rig.Report(output);
            }
        }
    }

    [UnixFact]
    public async Task WorkerJoinsWhileDestinationsDeliver_TheyAreSpreadToIt_WithoutARestart_EveryRecordOneBuild()
    {
        const int destinations = 6, records = 80, limit = 10;
        var window = TimeSpan.FromSeconds(2);
        await using var rig = await ClusterRig.StartAsync(postgres, Organizations, $"{limit}/2s");
        var passed = false;
        try
        {
            var api = await rig.StartSiloAsync("api", "api");
            var first = await rig.StartSiloAsync("worker", "w1");
            using var client = ServerApi.WithKey(api.BaseAddress, await api.CreateApiKeyAsync());
            await CreateDestinationsAsync(client, rig, destinations, records);
            await ClearRequestLogAsync(rig.Sandbox);
            await Task.WhenAll(Enumerable.Range(0, destinations).Select(d => client.PostAsync($"/api/v1/destinations/dest{d}/activate")));
            foreach (var name in Names(destinations))
            {
                Assert.Equal("w1", (string?)(await client.StatusAsync(name))["silo"]);
            }

            await Eventually.UntilAsync(() => ServerApi.Builds(rig.Sandbox).Count >= 20, "delivery under way on w1");
            await rig.StartSiloAsync("worker", "w2");

            // w1 gives the silo that joined its even share (6 over 2 silos: 3 each) while they deliver; nothing restarts.
            var spread = new List<string?>();
            await Eventually.UntilAsync(
                async () =>
                {
                    spread = (await SilosAsync(client, destinations)).Select(d => d.Silo).ToList();
                    return spread.Count(s => s == "w1") == 3 && spread.Count(s => s == "w2") == 3;
                },
                () => $"the destinations to be spread over w1 and w2 (on: {string.Join(", ", spread)})");
            var buildsWhenSpread = ServerApi.Builds(rig.Sandbox).Count;
            output.WriteLine($"spread at {buildsWhenSpread} of {destinations * records} builds: {string.Join(", ", spread)}");
            Assert.True(buildsWhenSpread < destinations * records, "every record was delivered before the destinations were spread: the test shows nothing");

            var statuses = await ClusterRig.WaitForAllSettledAsync(client, Names(destinations), _ => records);
            AssertOneBuildPerRecord(rig.Sandbox, destinations, records);
            foreach (var (name, status) in statuses)
            {
                Assert.True((long)status["delivered"]! == records && (long)status["rejected"]! == 0 && (long)status["possiblyDelivered"]! == 0, $"{name}: {status.ToJsonString()}");
            }

            // A destination that moved ended its run on w1 with "move" and began the next on w2 with "move".
            var moved = 0;
            foreach (var (name, status) in statuses.Where(s => (string?)s.Value["silo"] == "w2"))
            {
                var runs = (await client.Client.GetFromJsonAsync<JsonArray>($"/api/v1/destinations/{name}/runs"))!;
                Assert.Contains(runs, r => (string?)r!["endReason"] == "move");
                Assert.Contains(runs, r => (string?)r!["reason"] == "move");
                moved++;
            }

            Assert.Equal(3, moved);
            Assert.False(first.HasExited, "w1 stopped: the destinations were to move without a restart");

            // Who the token belongs to was asked of Buildkite only by the activations' checks: the workers — w1 when it
            // started them, w2 when they arrived — read it from the cluster. (A worker asking is not paced: against a
            // spent user limit it waited up to a minute before a moved destination delivered.)
            var tokenChecks = (await ServerApi.RequestsAsync(rig.Sandbox)).Count(r => (string?)r["path"] == "/v2/access-token");
            Assert.Equal(destinations, tokenChecks);
            await AssertPacedTogetherAsync(rig.Sandbox, window, limit, statuses);
            passed = true;
        }
        finally
        {
            if (!passed)
            {
                rig.Report(output);
            }
        }
    }

    /// <summary>No organization over its limit: at most one 429 per organization window in the sandbox's request log.</summary>
    private async Task AssertPacedTogetherAsync(SandboxServer sandbox, TimeSpan window, int limit, Dictionary<string, JsonNode> statuses)
    {
        var requests = await ServerApi.RequestsAsync(sandbox);
        var calls = requests
            .Where(r => ((string?)r["path"] ?? string.Empty).StartsWith("/v2/organizations/", StringComparison.Ordinal) && r["status"] is not null)
            .Select(r => (Org: ((string)r["path"]!).Split('/')[3], Window: DateTimeOffset.Parse((string)r["time"]!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / (long)window.TotalMilliseconds, Status: (int)r["status"]!))
            .ToList();
        var windows = calls.GroupBy(c => (c.Org, c.Window)).ToList();
        var refused = calls.Count(c => c.Status == 429);
        output.WriteLine($"{calls.Count} calls to organizations in {windows.Count} organization windows; 429s: {refused}; most admitted in one window: {windows.Max(w => w.Count(c => c.Status != 429))} of {limit}; silos: {string.Join(", ", statuses.Select(s => $"{s.Key}@{s.Value["silo"]}"))}");
        Assert.True(refused <= windows.Count, $"{refused} calls were answered 429 in {windows.Count} organization windows: the workers did not pace their organizations together");
    }

    private static IEnumerable<string> Names(int destinations) => Enumerable.Range(0, destinations).Select(d => $"dest{d}");

    /// <summary>Where each destination runs now (its status's <c>silo</c>; null when the status could not be read).</summary>
    private static async Task<List<(string Name, string? Silo)>> SilosAsync(ServerApi client, int destinations)
    {
        var silos = new List<(string Name, string? Silo)>();
        foreach (var name in Names(destinations))
        {
            silos.Add((name, (string?)(await ClusterRig.TryStatusAsync(client, name))?["silo"]));
        }

        return silos;
    }

    /// <summary>A dataset <c>ds{d}</c> with <paramref name="records"/> records and a draft destination <c>dest{d}</c> per destination, on organizations in turn; returns the ingest keys.</summary>
    private static async Task<string[]> CreateDestinationsAsync(ServerApi client, ClusterRig rig, int destinations, int records)
    {
        await client.CreateCredentialAsync("ext", SandboxServer.DefaultToken, rig.Sandbox.BaseAddress);
        var keys = new string[destinations];
        for (var d = 0; d < destinations; d++)
        {
            keys[d] = await client.CreateDatasetAsync($"ds{d}");
            await client.UploadAsync($"ds{d}", ClusterRig.Records(Organizations[d % Organizations.Length], d, 0, records));
            await client.CreateDestinationAsync($"dest{d}", $"ds{d}", "ext", ClusterRig.Settings);
        }

        return keys;
    }

    private static async Task ClearRequestLogAsync(SandboxServer sandbox)
    {
        using var http = new HttpClient();
        (await http.DeleteAsync(new Uri(sandbox.BaseAddress, "/_sandbox/requests"))).EnsureSuccessStatusCode();
    }

    /// <summary>Every record of every destination made exactly one build.</summary>
    private static void AssertOneBuildPerRecord(SandboxServer sandbox, int destinations, int records)
    {
        var perCommit = ServerApi.Builds(sandbox).GroupBy(b => (string)b["commit"]!).ToDictionary(g => g.Key, g => g.Count());
        var expected = Enumerable.Range(0, destinations).SelectMany(d => Enumerable.Range(0, records).Select(i => ClusterRig.Commit(d, i))).ToList();
        var twice = perCommit.Where(p => p.Value > 1).Select(p => $"{p.Key} × {p.Value}").ToList();
        Assert.True(twice.Count == 0, $"records built more than once: {string.Join(", ", twice)}");
        var missing = expected.Where(c => !perCommit.ContainsKey(c)).ToList();
        Assert.True(missing.Count == 0, $"records never built: {string.Join(", ", missing.Take(20))}");
        Assert.Equal(expected.Count, perCommit.Count);
    }
}
