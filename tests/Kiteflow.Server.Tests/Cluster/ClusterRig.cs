using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;
using Kiteflow.Testing.Postgres;

namespace Kiteflow.Server.Tests.Cluster;

/// <summary>
/// Real <c>kiteflow serve</c> processes forming one cluster on one throwaway PostgreSQL database (each silo with its own
/// data folder, free loopback ports, the same master key), and a sandbox in this process with one organization per
/// name given, a pipeline <c>web</c> in each, and the organization limit given. Disposing kills every silo.
/// </summary>
internal sealed class ClusterRig : IAsyncDisposable
{
    /// <summary>Every silo seals and opens credentials with the same master key (base64 of 32 bytes; a test's own).</summary>
    public const string MasterKey = "a2l0ZWZsb3ctY2x1c3Rlci10ZXN0cy1tYXN0ZXIta2U=";

    public const string Settings = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":4,"maxAttempts":10}}
        """;

    private readonly string _root = Directory.CreateTempSubdirectory("kiteflow-cluster-").FullName;
    private readonly string _store;
    private readonly List<(string Name, ServeProcess Process)> _silos = [];

    private ClusterRig(string store, string connectionString, SandboxServer sandbox)
    {
        _store = store;
        ConnectionString = connectionString;
        Sandbox = sandbox;
    }

    public SandboxServer Sandbox { get; }

    /// <summary>The cluster's database, in Npgsql's keyword form, to look at what the silos wrote.</summary>
    public string ConnectionString { get; }

    /// <summary>Every silo started, by name, live or not.</summary>
    public IReadOnlyList<(string Name, ServeProcess Process)> Silos => _silos;

    public static async Task<ClusterRig> StartAsync(PostgresServerFixture postgres, string[] organizations, string organizationLimit, Action<SandboxOptions>? configure = null)
    {
        var database = new Npgsql.NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()).Database!;
        var seed = Path.Combine(Path.GetTempPath(), $"kiteflow-cluster-seed-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(seed, Seed(organizations));
        try
        {
            var options = new SandboxOptions
            {
                SeedFile = seed,
                OrganizationLimit = RateLimitSetting.Parse(organizationLimit),
                UserLimit = RateLimitSetting.Parse("100000/60s"),
                RequestLogCapacity = 100_000,
                RandomSeed = 20261201,
            };
            configure?.Invoke(options);
            return new ClusterRig(postgres.Server.UriFor(database), postgres.Server.ConnectionStringFor(database), await SandboxServer.StartAsync(options));
        }
        finally
        {
            File.Delete(seed);
        }
    }

    /// <summary>Starts a silo (<paramref name="role"/>: all, api, worker) named <paramref name="name"/> and waits until it listens.</summary>
    public async Task<ServeProcess> StartSiloAsync(string role, string name)
    {
        var data = Path.Combine(_root, $"{name}-{_silos.Count}");
        Directory.CreateDirectory(data);
        var silo = await ServeProcess.StartAsync(
            data,
            new Dictionary<string, string> { ["KITEFLOW_STORE"] = _store, ["KITEFLOW_MASTER_KEY"] = MasterKey },
            "--role", role, "--silo-name", name, "--silo-address", "127.0.0.1",
            "--silo-port", FreePort().ToString(CultureInfo.InvariantCulture), "--gateway-port", FreePort().ToString(CultureInfo.InvariantCulture));
        _silos.Add((name, silo));
        return silo;
    }

    /// <summary>The silo named <paramref name="name"/> that was started last.</summary>
    public ServeProcess Silo(string name) => _silos.Last(s => s.Name == name).Process;

    /// <summary>A destination's status, read through <paramref name="api"/>; null while the cluster cannot answer (a silo died and is not declared dead yet).</summary>
    public static async Task<JsonNode?> TryStatusAsync(ServerApi api, string destination)
    {
        try
        {
            var response = await api.Client.GetAsync($"/api/v1/destinations/{destination}/status");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonNode>() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Waits until every destination in <paramref name="destinations"/> has settled <paramref name="records"/> records (each) with no lag.</summary>
    public static async Task<Dictionary<string, JsonNode>> WaitForAllSettledAsync(ServerApi api, IEnumerable<string> destinations, Func<string, long> records)
    {
        var settled = new Dictionary<string, JsonNode>();
        foreach (var destination in destinations)
        {
            JsonNode? last = null;
            await Eventually.UntilAsync(
                async () =>
                {
                    last = await TryStatusAsync(api, destination) ?? last;
                    return last is not null && (long)last["delivered"]! + (long)last["rejected"]! + (long)last["possiblyDelivered"]! == records(destination) && (long)last["lag"]! == 0;
                },
                () => $"{destination} to settle {records(destination)} records; last status: {last?.ToJsonString() ?? "none"}");
            settled[destination] = last!;
        }

        return settled;
    }

    /// <summary>Writes every silo's warnings and errors (its log on stderr) to <paramref name="output"/>, for a failure's story.</summary>
    public void Report(Xunit.Abstractions.ITestOutputHelper output)
    {
        foreach (var (name, process) in _silos)
        {
            var lines = process.Errors.Split('\n').Where(l => l.Contains(" warn:", StringComparison.Ordinal) || l.Contains(" fail:", StringComparison.Ordinal) || l.Contains(" crit:", StringComparison.Ordinal) || l.Contains("Kiteflow.Server", StringComparison.Ordinal)).TakeLast(60);
            output.WriteLine($"--- {name} ({(process.HasExited ? "exited" : "running")}):");
            foreach (var line in lines)
            {
                output.WriteLine(line);
            }
        }

        // What the sandbox saw per organization: a pacing that broke shows as 429s bunched in a few seconds.
        try
        {
            var calls = ServerApi.RequestsAsync(Sandbox).GetAwaiter().GetResult()
                .Where(r => ((string?)r["path"] ?? string.Empty).StartsWith("/v2/organizations/", StringComparison.Ordinal))
                .Select(r => (Org: ((string)r["path"]!).Split('/')[3], Method: (string?)r["method"], Status: (int?)r["status"], Time: (string?)r["time"] is { } time ? DateTimeOffset.Parse(time, CultureInfo.InvariantCulture) : DateTimeOffset.MinValue))
                .ToList();
            foreach (var org in calls.GroupBy(c => c.Org).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var refused = org.Where(c => c.Status == 429).ToList();
                var worst = refused.GroupBy(c => c.Time.ToUnixTimeSeconds()).OrderByDescending(g => g.Count()).FirstOrDefault();
                output.WriteLine($"--- sandbox {org.Key}: {org.Count()} calls ({org.Count(c => c.Method == "POST")} POST, {org.Count(c => c.Method == "GET")} GET), {refused.Count} answered 429"
                    + (worst is null ? string.Empty : $"; most in one second: {worst.Count()} at {DateTimeOffset.FromUnixTimeSeconds(worst.Key):HH:mm:ss}"));
            }
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or InvalidOperationException or FormatException or InvalidCastException)
        {
            output.WriteLine($"--- sandbox request log unreadable: {e.Message}");
        }
    }

    /// <summary>Sends NDJSON to <c>/ingest/{dataset}</c> of the silo at <paramref name="baseAddress"/>.</summary>
    public static async Task IngestAsync(Uri baseAddress, string dataset, string ingestKey, string jsonLines)
    {
        using var http = new HttpClient { BaseAddress = baseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/ingest/{dataset}") { Content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson") };
        request.Headers.Authorization = new("Bearer", ingestKey);
        var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Records for <paramref name="organization"/>, each with a commit of its own (destination <paramref name="destination"/>'s number and the record's).</summary>
    public static string Records(string organization, int destination, int first, int count) =>
        string.Concat(Enumerable.Range(first, count).Select(i =>
            $$"""{"org":"{{organization}}","pipeline":"web","commit":"{{Commit(destination, i)}}","branch":"main","message":"d{{destination}} {{i}}"}""" + "\n"));

    /// <summary>The commit of record <paramref name="i"/> of destination <paramref name="destination"/>: 40 hex digits, unique per pair.</summary>
    public static string Commit(int destination, int i) => $"{destination:x4}{i:x8}".PadRight(40, 'c');

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process) in _silos)
        {
            if (!process.HasExited)
            {
                // A stopped process does not die of SIGKILL until it runs again.
                process.Signal("CONT");
            }

            process.Dispose();
        }

        await Sandbox.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static string Seed(string[] organizations)
    {
        var orgs = new JsonArray();
        foreach (var slug in organizations)
        {
            orgs.Add(new JsonObject
            {
                ["slug"] = slug,
                ["name"] = slug,
                ["members"] = new JsonArray(new JsonObject { ["user"] = "admin@sandbox.example", ["role"] = "admin" }),
                ["pipelines"] = new JsonArray(new JsonObject { ["name"] = "web", ["repository"] = $"git@github.com:{slug}/web.git", ["configuration"] = "steps:\n  - command: make\n" }),
            });
        }

        return new JsonObject
        {
            ["users"] = new JsonArray(new JsonObject { ["name"] = "Sandbox Admin", ["email"] = "admin@sandbox.example" }),
            ["tokens"] = new JsonArray(new JsonObject { ["token"] = SandboxServer.DefaultToken, ["scopes"] = new JsonArray("*"), ["user"] = "admin@sandbox.example" }),
            ["organizations"] = orgs,
        }.ToJsonString();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
