using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Storage;

namespace Kiteflow.Server.Tests.Endpoints;

public sealed class DestinationEndpointsTests : IAsyncLifetime
{
    private const string Url = "https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds";

    private ServerHarness _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync();
        _client = await _server.LoginAsync();
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/datasets", new { name = "repos" })).StatusCode);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Create_InvalidSettings_EveryProblemUnderItsKey_NothingSaved()
    {
        var response = await _client.PostAsJsonAsync("/api/v1/destinations", new
        {
            name = "builds",
            dataset = "nope",
            credential = "sandbox",
            settings = new { url = Url, method = "FETCH", headers = "Authorization:x", batching = new { enabled = true, batchSize = 0 }, colour = "red" },
        });
        var problem = await response.Content.ReadFromJsonAsync<JsonNode>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var keys = problem!["errors"]!.AsObject().Select(e => e.Key).ToList();
        Assert.Contains("dataset", keys);
        Assert.Contains("settings.method", keys);
        Assert.Contains("settings.batching.batchSize", keys);
        Assert.Contains("settings.colour", keys);
        Assert.Empty((await _client.GetFromJsonAsync<JsonArray>("/api/v1/destinations"))!);
    }

    [Fact]
    public async Task Crud_CreateDraft_Update_Export_Import_Delete_AllAudited()
    {
        var created = await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "builds", dataset = "repos", credential = "sandbox", settings = new { url = Url, excludeAttributes = new[] { "org" } } });
        var view = await created.Content.ReadFromJsonAsync<JsonNode>();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(("draft", 1L, "write_builds"), ((string)view!["state"]!, (long)view["version"]!, (string)view["scope"]!));

        var updated = await _client.PutAsJsonAsync("/api/v1/destinations/builds", new { settings = new { url = Url, excludeAttributes = new[] { "org", "pipeline" } }, version = 1 });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var stale = await _client.PutAsJsonAsync("/api/v1/destinations/builds", new { settings = new { url = Url }, version = 1 });
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);

        var file = await _client.GetStringAsync("/api/v1/destinations/builds/export");
        Assert.Contains("\"pipeline\"", file);
        var imported = await _client.PostAsync("/api/v1/destinations/import?name=builds-copy&dataset=repos&credential=sandbox", new StringContent("// a destination file\n" + file, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, imported.StatusCode);
        Assert.Equal(2, (await _client.GetFromJsonAsync<JsonArray>("/api/v1/destinations"))!.Count);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync("/api/v1/destinations/builds-copy")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/destinations/builds-copy")).StatusCode);

        var audit = await _client.GetFromJsonAsync<JsonNode>("/api/v1/audit?resourceType=destination");
        var actions = audit!["items"]!.AsArray().Select(e => (string)e!["action"]!).ToList();
        Assert.Equal(["destination.delete", "destination.import", "destination.update", "destination.create"], actions);
        var diff = audit["items"]![2]!["details"]!["changes"]!.AsArray().Single()!;
        Assert.Equal("excludeAttributes", (string?)diff["path"]);
        Assert.Equal(["org", "pipeline"], diff["to"]!.AsArray().Select(a => (string)a!));
    }

    [Fact]
    public async Task UpdateAndDelete_WhileActive_Are409SayingPauseFirst()
    {
        await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "live", dataset = "repos", credential = "sandbox", settings = new { url = Url } });
        var store = _server.Service<IKiteflowStore>();
        var row = (await store.Destinations.GetAsync("live", CancellationToken.None))!;
        await store.Destinations.SetStateAsync(row.Id, row.Version, DestinationState.Active, DateTimeOffset.UtcNow, CancellationToken.None);

        var update = await _client.PutAsJsonAsync("/api/v1/destinations/live", new { settings = new { url = Url, method = "PUT" } });
        var delete = await _client.DeleteAsync("/api/v1/destinations/live");

        Assert.Equal(HttpStatusCode.Conflict, update.StatusCode);
        Assert.Contains("pause it first", (string?)(await update.Content.ReadFromJsonAsync<JsonNode>())!["detail"]);
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Equal("active", (string?)(await _client.GetFromJsonAsync<JsonNode>("/api/v1/destinations/live"))!["state"]);
    }

    [Fact]
    public async Task Audit_RedactsSecretLookingSettings()
    {
        await _client.PostAsJsonAsync("/api/v1/destinations", new { name = "hdr", dataset = "repos", credential = "sandbox", settings = new { url = Url, headers = "X-Team:platform,X-Api-Key:hunter2-secret-value" } });

        var audit = await _client.GetStringAsync("/api/v1/audit?resourceType=destination&resourceName=hdr");

        Assert.Contains("X-Team:platform", audit);
        Assert.DoesNotContain("hunter2-secret-value", audit);
    }
}
