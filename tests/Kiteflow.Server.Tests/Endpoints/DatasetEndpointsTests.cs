using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Kiteflow.Server.Tests.Endpoints;

public sealed class DatasetEndpointsTests : IAsyncLifetime
{
    private ServerHarness _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync(o => o.UploadBatchRecords = 7);
        _client = await _server.LoginAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Create_BadName_NamesTheField_AndATakenName()
    {
        var bad = await _client.PostAsJsonAsync("/api/v1/datasets", new { name = "Not A Slug", source = "ftp" });
        var problem = await bad.Content.ReadFromJsonAsync<JsonNode>();

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull(problem!["errors"]!["name"]);
        Assert.NotNull(problem["errors"]!["source"]);
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/datasets", new { name = "repos" })).StatusCode);
        var taken = await (await _client.PostAsJsonAsync("/api/v1/datasets", new { name = "repos" })).Content.ReadFromJsonAsync<JsonNode>();
        Assert.Contains("already exists", (string?)taken!["errors"]!["name"]![0]);
    }

    [Fact]
    public async Task Upload_JsonLines_KeepsRejectionsWithTheirLines_InBatches()
    {
        await CreateAsync("lines");
        var body = string.Join('\n', Enumerable.Range(0, 20).Select(i => i == 4 ? "{broken" : i == 12 ? "[1,2]" : $"{{\"n\":{i},\"big\":12345678901234567890.5}}"));

        var answer = await UploadAsync("lines", body, "application/x-ndjson");

        Assert.Equal(18, (long)answer["appended"]!);
        Assert.Equal(2, (long)answer["rejected"]!);
        Assert.Equal([5L, 13L], answer["rejections"]!.AsArray().Select(r => (long)r!["line"]!));
        var page = await _client.GetFromJsonAsync<JsonNode>("/api/v1/datasets/lines/records?from=0&limit=5");
        Assert.Equal([0L, 1L, 2L, 3L, 4L], page!["records"]!.AsArray().Select(r => (long)r!["offset"]!));
        Assert.Equal(5, (long)page["records"]![4]!["record"]!["n"]!);
        Assert.Contains("12345678901234567890.5", page.ToJsonString());
        Assert.Equal(5, (long)page["next"]!);
        var stored = await _client.GetFromJsonAsync<JsonNode>("/api/v1/datasets/lines/rejections");
        Assert.Equal(2, stored!["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Upload_JsonArrayAndCsv_AppendInOrder_SchemaCountsThem()
    {
        await CreateAsync("mixed");
        await UploadAsync("mixed", "[\n  {\"org\": \"acme\",\n   \"tags\": [\"a\"]},\n  {\"org\": \"beta\", \"n\": 1}\n]", "application/json");
        var csv = await UploadAsync("mixed", "org,author.email\nacme,a@x.io\ngamma,g@x.io\n", "text/csv");

        Assert.Equal(2, (long)csv["firstOffset"]!);
        var schema = await _client.GetFromJsonAsync<JsonNode>("/api/v1/datasets/mixed/schema");
        Assert.Equal(4, (long)schema!["records"]!);
        var attributes = schema["attributes"]!.AsArray().ToDictionary(a => (string)a!["path"]!, a => a!);
        Assert.Equal(4, (long)attributes["org"]["records"]!);
        Assert.Equal(["array"], attributes["tags"]["types"]!.AsArray().Select(t => (string)t!));
        Assert.Equal(2, (long)attributes["author.email"]["records"]!);
        var first = await _client.GetFromJsonAsync<JsonNode>("/api/v1/datasets/mixed/records?from=0&limit=1");
        Assert.Equal("acme", (string?)first!["records"]![0]!["record"]!["org"]);
    }

    [Fact]
    public async Task Export_JsonLinesAndCsv_StreamEveryRecord()
    {
        await CreateAsync("out");
        await UploadAsync("out", string.Join('\n', Enumerable.Range(0, 25).Select(i => $"{{\"id\":{i},\"who\":{{\"name\":\"n,{i}\"}}}}")), "application/x-ndjson");

        var jsonl = await _client.GetStringAsync("/api/v1/datasets/out/export?format=jsonl");
        var csv = await _client.GetStringAsync("/api/v1/datasets/out/export?format=csv");

        var lines = jsonl.TrimEnd('\n').Split('\n');
        Assert.Equal(25, lines.Length);
        Assert.Equal("{\"id\":24,\"who\":{\"name\":\"n,24\"}}", lines[^1]);
        var rows = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("id,who.name", rows[0]);
        Assert.Equal("3,\"n,3\"", rows[4]);
        Assert.Equal(26, rows.Length);
    }

    [Fact]
    public async Task Delete_RemovesTheDatasetAndItsRecords()
    {
        await CreateAsync("gone");
        await UploadAsync("gone", "{\"a\":1}", "application/x-ndjson");

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync("/api/v1/datasets/gone")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/datasets/gone/records")).StatusCode);
        Assert.Empty((await _client.GetFromJsonAsync<JsonArray>("/api/v1/datasets"))!);
    }

    private async Task CreateAsync(string name) =>
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/v1/datasets", new { name })).StatusCode);

    private async Task<JsonNode> UploadAsync(string name, string body, string contentType)
    {
        var response = await _client.PostAsync($"/api/v1/datasets/{name}/records", new StringContent(body, Encoding.UTF8, contentType));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }
}
