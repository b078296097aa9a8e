using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Server.Hosting;
using Kiteflow.Testing.Postgres;
using Npgsql;

namespace Kiteflow.Server.Tests.Hosting;

/// <summary>
/// A server on <c>--store postgres://…</c> delivers as it does on SQLite: its destinations' cursors, claims, ledger, runs
/// and records not delivered live in PostgreSQL, so a second server on the same database goes on where the first stopped.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DeliveryOnPostgresTests(PostgresServerFixture postgres)
{
    private const string TriggerBuilds = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":4}}
        """;

    [Fact]
    public async Task Destination_OnPostgres_DeliversEveryRecordOnce_AcrossAPauseARestartAndARetry()
    {
        var database = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync()).Database!;
        var dataDirectory = Directory.CreateTempSubdirectory("kiteflow-server-pg-delivery-").FullName;
        try
        {
            string ingestKey;
            await using (var first = await ServerHarness.StartAsync(o => o.Store = postgres.Server.UriFor(database), dataDirectory))
            {
                using var client = await first.LoginAsync();
                ingestKey = await CreateDatasetAsync(client, "deploys");
                await UploadAsync(client, "deploys", Records(0, 20) + Record(99, "nope"));
                await CreateDestinationAsync(client, "trigger", "deploys");
                var activated = await client.PostAsJsonAsync("/api/v1/destinations/trigger/activate", new { });
                Assert.True(activated.StatusCode == HttpStatusCode.OK, await activated.Content.ReadAsStringAsync());
                await WaitForAsync(client, s => (long)s["delivered"]! == 20 && (long)s["rejected"]! == 1);

                await IngestAsync(first, "deploys", ingestKey, Records(20, 10));
                await WaitForAsync(client, s => (long)s["delivered"]! == 30 && (long)s["lag"]! == 0);
                Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/destinations/trigger/pause", new { })).StatusCode);

                var builds = Builds(first);
                Assert.Equal(30, builds.Count);
                Assert.Equal(30, builds.Select(b => (string)b["commit"]!).Distinct().Count());
            }

            Assert.Equal(31L, await ScalarAsync<long>(database, "SELECT cursor FROM destination_progress"));
            Assert.Equal(1L, await ScalarAsync<long>(database, "SELECT count(*) FROM rejected_records"));

            // A second server on the same database: the paused destination resumes from its cursor, then retries the
            // record Buildkite refused once its pipeline exists. Its sandbox is new, so a record sent twice would show.
            await using (var second = await ServerHarness.StartAsync(o => o.Store = postgres.Server.UriFor(database), dataDirectory))
            {
                using var client = await second.LoginAsync();
                Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/destinations/trigger/resume", new { })).StatusCode);
                await IngestAsync(second, "deploys", ingestKey, Records(30, 5));
                await WaitForAsync(client, s => (long)s["delivered"]! == 35);

                await CreatePipelineAsync(second, "nope");
                var retry = await client.PostAsJsonAsync("/api/v1/destinations/trigger/rejected/retry", new { });
                Assert.Equal(1, (int)(await retry.Content.ReadFromJsonAsync<JsonNode>())!["records"]!);
                await WaitForAsync(client, s => (long)s["delivered"]! == 36 && (long)s["rejected"]! == 0 && !(bool)s["retryUnderWay"]!);

                Assert.Equal(["c030", "c031", "c032", "c033", "c034", "c099"], Builds(second).Select(b => ((string)b["commit"]!)[..4]).Order());
                var runs = await client.GetFromJsonAsync<JsonArray>("/api/v1/destinations/trigger/runs");
                Assert.Equal(["resume", "activate"], runs!.Select(r => (string)r!["reason"]!));
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task<string> CreateDatasetAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/datasets", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["ingestKey"]!;
    }

    private static async Task UploadAsync(HttpClient client, string dataset, string jsonLines)
    {
        using var content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson");
        var response = await client.PostAsync($"/api/v1/datasets/{dataset}/records?format=jsonl", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task IngestAsync(ServerHarness server, string dataset, string key, string jsonLines)
    {
        using var ingest = server.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/ingest/{dataset}") { Content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson") };
        request.Headers.Authorization = new("Bearer", key);
        var response = await ingest.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task CreateDestinationAsync(HttpClient client, string name, string dataset)
    {
        var response = await client.PostAsJsonAsync("/api/v1/destinations", new { name, dataset, credential = "sandbox", settings = JsonNode.Parse(TriggerBuilds) });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task CreatePipelineAsync(ServerHarness server, string slug)
    {
        var sandbox = server.Service<EmbeddedSandbox>().Server!;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sandbox.BaseAddress, "/v2/organizations/acme/pipelines"))
        {
            Content = JsonContent.Create(new { name = slug, repository = "git@github.com:acme/nope.git", configuration = "steps:\n  - command: true" }),
        };
        request.Headers.Authorization = new("Bearer", Kiteflow.Sandbox.SandboxServer.DefaultToken);
        var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static List<JsonNode> Builds(ServerHarness server) =>
        JsonNode.Parse(server.Service<EmbeddedSandbox>().Server!.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    private static string Records(int first, int count) => string.Concat(Enumerable.Range(first, count).Select(i => Record(i, i % 2 == 0 ? "web" : "api")));

    private static string Record(int i, string pipeline) =>
        $$"""{"org":"acme","pipeline":"{{pipeline}}","commit":"c{{i:D3}}{{new string('0', 36)}}","branch":"main","message":"deploy {{i}}"}""" + "\n";

    /// <summary>Polls the destination's status until <paramref name="done"/> holds; fails with the last one after two minutes (no timing is asserted).</summary>
    private static async Task WaitForAsync(HttpClient client, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        JsonNode last;
        do
        {
            last = (await client.GetFromJsonAsync<JsonNode>("/api/v1/destinations/trigger/status"))!;
            if (done(last))
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"the condition never held; last: {last.ToJsonString()}");
    }

    private async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var source = NpgsqlDataSource.Create(postgres.Server.ConnectionStringFor(database));
        await using var command = source.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
