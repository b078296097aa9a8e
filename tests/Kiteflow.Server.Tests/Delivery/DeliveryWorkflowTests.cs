using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Server.Hosting;

namespace Kiteflow.Server.Tests.Delivery;

/// <summary>
/// The seed's workflow through the API, on a real server with its embedded sandbox: upload, create a destination,
/// activate it, ingest more records over HTTP, pause, resume — every record becomes exactly one build.
/// </summary>
public sealed class DeliveryWorkflowTests : IAsyncLifetime
{
    private const string TriggerBuilds = """
        {"url":"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds","excludeAttributes":["org","pipeline"],
         "delivery":{"concurrency":4}}
        """;

    private ServerHarness _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync();
        _client = await _server.LoginAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Workflow_UploadActivateIngestPauseResume_EveryRecordOneBuild()
    {
        var ingestKey = await CreateDatasetAsync("deploys");
        await UploadAsync("deploys", Records(0, 20));
        await CreateDestinationAsync("trigger", "deploys", TriggerBuilds);

        var activated = await _client.PostAsJsonAsync("/api/v1/destinations/trigger/activate", new { });
        Assert.True(activated.StatusCode == HttpStatusCode.OK, await activated.Content.ReadAsStringAsync());
        await WaitForAsync(() => Status("trigger"), s => (long)s["delivered"]! == 20);

        // Records that arrive while the destination is active are delivered too.
        await IngestAsync("deploys", ingestKey, Records(20, 30));
        await WaitForAsync(() => Status("trigger"), s => (long)s["delivered"]! == 50 && (long)s["lag"]! == 0);

        var paused = await _client.PostAsJsonAsync("/api/v1/destinations/trigger/pause", new { });
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        await IngestAsync("deploys", ingestKey, Records(50, 10));
        var whilePaused = await Status("trigger");
        Assert.Equal(("paused", 50L, 10L), ((string)whilePaused["state"]!, (long)whilePaused["delivered"]!, (long)whilePaused["lag"]!));
        Assert.Equal(50, Builds().Count);

        var resumed = await _client.PostAsJsonAsync("/api/v1/destinations/trigger/resume", new { });
        Assert.True(resumed.StatusCode == HttpStatusCode.OK, await resumed.Content.ReadAsStringAsync());
        await WaitForAsync(() => Status("trigger"), s => (long)s["delivered"]! == 60);

        var builds = Builds();
        Assert.Equal(60, builds.Count);
        Assert.Equal(60, builds.Select(b => (string)b["commit"]!).Distinct().Count());
        var runs = await _client.GetFromJsonAsync<JsonArray>("/api/v1/destinations/trigger/runs");
        Assert.Equal(["resume", "activate"], runs!.Select(r => (string)r!["reason"]!));
        var audit = await _client.GetStringAsync("/api/v1/audit?resource=destination");
        Assert.Contains("destination.activate", audit);
        Assert.Contains("destination.pause", audit);
    }

    [Fact]
    public async Task Activate_OnlyNewRecords_LeavesTheExistingOnesAlone()
    {
        var ingestKey = await CreateDatasetAsync("later");
        await UploadAsync("later", Records(0, 5));
        await CreateDestinationAsync("only-new", "later", TriggerBuilds);

        var activated = await _client.PostAsJsonAsync("/api/v1/destinations/only-new/activate", new { from = "new" });
        Assert.True(activated.StatusCode == HttpStatusCode.OK, await activated.Content.ReadAsStringAsync());
        await IngestAsync("later", ingestKey, Records(5, 3));
        await WaitForAsync(() => Status("only-new"), s => (long)s["delivered"]! == 3);

        Assert.Equal(["c005", "c006", "c007"], Builds().Select(b => ((string)b["commit"]!)[..4]).Order());
    }

    [Fact]
    public async Task Activate_TokenWithoutTheScope_RefusedNamingTheCredential_NothingSent()
    {
        const string token = "bkua_server_readonly_token_0123456789ab";
        _server.Service<EmbeddedSandbox>().Server!.AddToken(new Kiteflow.Sandbox.SandboxToken(token, ["read_builds"]));
        using (var created = await _client.PostAsJsonAsync("/api/v1/credentials", new { name = "readonly", token, apiBase = _server.Service<EmbeddedSandbox>().Server!.BaseAddress.ToString() }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        await CreateDatasetAsync("scoped");
        await UploadAsync("scoped", Records(0, 2));
        await CreateDestinationAsync("scoped", "scoped", TriggerBuilds, credential: "readonly");

        var refused = await _client.PostAsJsonAsync("/api/v1/destinations/scoped/activate", new { });
        var problem = await refused.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("write_builds", problem);
        Assert.Contains("\"credential\"", problem);
        Assert.DoesNotContain(token, problem);
        Assert.Equal("draft", (string)(await Status("scoped"))["state"]!);
        Assert.Empty(Builds());
    }

    [Fact]
    public async Task Rejected_FixTheSettings_Retry_Delivered()
    {
        await CreateDatasetAsync("mixed");

        // Two records name a pipeline that does not exist yet: Buildkite answers 404 and they are rejected.
        await UploadAsync("mixed", Records(0, 3) + """{"org":"acme","pipeline":"nope","commit":"bad0000000000000000000000000000000000001","branch":"main"}""" + "\n" + """{"org":"acme","pipeline":"nope","commit":"bad0000000000000000000000000000000000002","branch":"main"}""" + "\n");
        await CreateDestinationAsync("retried", "mixed", TriggerBuilds);
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/api/v1/destinations/retried/activate", new { })).StatusCode);
        await WaitForAsync(() => Status("retried"), s => (long)s["delivered"]! == 3 && (long)s["rejected"]! == 2);

        var rejected = await _client.GetFromJsonAsync<JsonNode>("/api/v1/destinations/retried/rejected");
        var items = rejected!["items"]!.AsArray();
        Assert.Equal([3L, 4L], items.Select(i => (long)i!["offset"]!));
        Assert.All(items, i => Assert.Equal(("http", 404), ((string)i!["stage"]!, (int)i["status"]!)));
        Assert.Equal("nope", (string)items[0]!["record"]!["pipeline"]!);

        // The fix here is on Buildkite's side: the pipeline is created, then the records are retried.
        await CreatePipelineAsync("nope");
        var retry = await _client.PostAsJsonAsync("/api/v1/destinations/retried/rejected/retry", new { });
        Assert.Equal(2, (int)(await retry.Content.ReadFromJsonAsync<JsonNode>())!["records"]!);

        await WaitForAsync(() => Status("retried"), s => (long)s["delivered"]! == 5 && (long)s["rejected"]! == 0 && !(bool)s["retryUnderWay"]!);
        Assert.Equal(5, Builds().Count);
        Assert.Empty((await _client.GetFromJsonAsync<JsonNode>("/api/v1/destinations/retried/rejected"))!["items"]!.AsArray());
    }

    /// <summary>
    /// A pause that comes in the middle of a stretch, with calls in flight: they are answered and recorded, and the
    /// resumed destination sends only the rest. Each record counts once in the status, though the resumed run settles
    /// the stretch's earlier records again from the ledger.
    /// </summary>
    [Fact]
    public async Task Pause_MidStretchWithCallsInFlight_Resume_EachRecordOneBuild_CountedOnce()
    {
        var sandbox = _server.Service<EmbeddedSandbox>().Server!;
        sandbox.SetFaults([new Kiteflow.Sandbox.SandboxFaultRule { Method = "POST", Path = "/v2/organizations/*/pipelines/*/builds", Action = Kiteflow.Sandbox.SandboxFaultAction.Delay, DelayMs = 300 }]);
        await CreateDatasetAsync("midway");
        await UploadAsync("midway", Records(0, 40));
        await CreateDestinationAsync("midway", "midway", TriggerBuilds);
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/api/v1/destinations/midway/activate", new { })).StatusCode);
        await Eventually.UntilAsync(() => Builds().Count >= 6, "some builds");

        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/api/v1/destinations/midway/pause", new { })).StatusCode);
        var paused = await Status("midway");
        var builtWhilePausing = Builds().Count;
        Assert.InRange(builtWhilePausing, 6, 39);
        Assert.Equal(0L, (long)paused["cursor"]!);

        sandbox.ClearFaults();
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/api/v1/destinations/midway/resume", new { })).StatusCode);
        var status = await Eventually.WaitForAsync(() => Status("midway"), s => (long)s["lag"]! == 0);

        Assert.Equal(40, Builds().Count);
        Assert.Equal(40, Builds().Select(b => (string)b["commit"]!).Distinct().Count());
        Assert.Equal((40L, 0L, 0L), ((long)status["delivered"]!, (long)status["rejected"]!, (long)status["possiblyDelivered"]!));
    }

    private async Task<string> CreateDatasetAsync(string name)
    {
        var response = await _client.PostAsJsonAsync("/api/v1/datasets", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["ingestKey"]!;
    }

    private async Task UploadAsync(string dataset, string jsonLines)
    {
        using var content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson");
        var response = await _client.PostAsync($"/api/v1/datasets/{dataset}/records?format=jsonl", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task IngestAsync(string dataset, string key, string jsonLines)
    {
        using var ingest = _server.Anonymous();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/ingest/{dataset}") { Content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson") };
        request.Headers.Authorization = new("Bearer", key);
        var response = await ingest.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task CreateDestinationAsync(string name, string dataset, string settings, string credential = "sandbox")
    {
        var response = await _client.PostAsJsonAsync("/api/v1/destinations", new { name, dataset, credential, settings = JsonNode.Parse(settings) });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonNode> Status(string destination) => (await _client.GetFromJsonAsync<JsonNode>($"/api/v1/destinations/{destination}/status"))!;

    private List<JsonNode> Builds() =>
        JsonNode.Parse(_server.Service<EmbeddedSandbox>().Server!.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    private async Task CreatePipelineAsync(string slug)
    {
        var sandbox = _server.Service<EmbeddedSandbox>().Server!;
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sandbox.BaseAddress, "/v2/organizations/acme/pipelines"))
        {
            Content = JsonContent.Create(new { name = slug, repository = "git@github.com:acme/nope.git", configuration = "steps:\n  - command: true" }),
        };
        request.Headers.Authorization = new("Bearer", Kiteflow.Sandbox.SandboxServer.DefaultToken);
        var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Records(int first, int count) => string.Concat(Enumerable.Range(first, count).Select(i =>
        $$"""{"org":"acme","pipeline":"{{(i % 2 == 0 ? "web" : "api")}}","commit":"c{{i:D3}}{{new string('0', 36)}}","branch":"main","message":"deploy {{i}}"}""" + "\n"));

    /// <summary>Polls until <paramref name="done"/> holds; fails with the last value after two minutes (no timing is asserted).</summary>
    private static async Task WaitForAsync(Func<Task<JsonNode>> read, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        JsonNode last;
        do
        {
            last = await read();
            if (done(last))
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"the condition never held; last: {last.ToJsonString()}");
    }
}
