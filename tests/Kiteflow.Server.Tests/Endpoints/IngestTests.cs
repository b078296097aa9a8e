using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Server.Datasets;
using Kiteflow.Storage;

namespace Kiteflow.Server.Tests.Endpoints;

public sealed class IngestTests : IAsyncLifetime
{
    private ServerHarness _server = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync();
        _admin = await _server.LoginAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Ingest_AnswersWithOffsets_ThatSurviveARestart()
    {
        var key = await CreateAsync("events");
        using var client = _server.Anonymous();

        var first = await IngestAsync(client, "events", key, "{\"n\":1}\n{\"n\":2}\n");
        var second = await IngestAsync(client, "events", key, "[{\"n\":3}]");
        var single = await IngestAsync(client, "events", key, "{\n  \"n\": 4\n}");

        Assert.Equal((0L, 2L, 1L), ((long)first["firstOffset"]!, (long)first["count"]!, (long)first["lastOffset"]!));
        Assert.Equal(2, (long)second["firstOffset"]!);
        Assert.Equal(3, (long)single["firstOffset"]!);

        // The answer came after the commit: a new server on the same files reads the same records.
        var directory = _server.DataDirectory;
        _admin.Dispose();
        await _server.App.StopAsync();
        await using var again = await ServerHarness.StartAsync(dataDirectory: directory);
        using var admin = await again.LoginAsync();
        var page = await admin.GetFromJsonAsync<JsonNode>("/api/v1/datasets/events/records");
        Assert.Equal([1L, 2L, 3L, 4L], page!["records"]!.AsArray().Select(r => (long)r!["record"]!["n"]!));
    }

    [Fact]
    public async Task Ingest_MalformedLine_IsRejectedWithItsLine_TheRestKept()
    {
        var key = await CreateAsync("partly");
        using var client = _server.Anonymous();

        var answer = await IngestAsync(client, "partly", key, "{\"a\":1}\n{\"a\":\n{\"a\":3}\n");

        Assert.Equal(2, (long)answer["count"]!);
        Assert.Equal(1, (long)answer["rejected"]!);
        Assert.Equal(2, (long)answer["rejections"]![0]!["line"]!);
        var records = await _admin.GetFromJsonAsync<JsonNode>("/api/v1/datasets/partly/records");
        Assert.Equal([1L, 3L], records!["records"]!.AsArray().Select(r => (long)r!["record"]!["a"]!));
    }

    [Fact]
    public async Task Ingest_SameIdempotencyKey_AppendsNothingTwice()
    {
        var key = await CreateAsync("once");
        using var client = _server.Anonymous();

        var first = await IngestAsync(client, "once", key, "{\"a\":1}\n{\"a\":2}", idempotencyKey: "retry-1");
        var retry = await IngestAsync(client, "once", key, "{\"a\":1}\n{\"a\":2}", idempotencyKey: "retry-1");

        Assert.False((bool)first["replayed"]!);
        Assert.True((bool)retry["replayed"]!);
        Assert.Equal((long)first["firstOffset"]!, (long)retry["firstOffset"]!);
        Assert.Equal(2, (long)(await _admin.GetFromJsonAsync<JsonNode>("/api/v1/datasets/once"))!["records"]!);
    }

    [Fact]
    public async Task Ingest_WrongOrMissingKey_Is401_AndAppendsNothing()
    {
        var key = await CreateAsync("guarded");
        using var client = _server.Anonymous();

        var wrong = await SendAsync(client, "guarded", "kfi_" + new string('x', 86), "{\"a\":1}");
        var none = await SendAsync(client, "guarded", null, "{\"a\":1}");
        var otherDataset = await SendAsync(client, "no-such-dataset", key, "{\"a\":1}");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherDataset.StatusCode);
        Assert.Equal(0, (long)(await _admin.GetFromJsonAsync<JsonNode>("/api/v1/datasets/guarded"))!["records"]!);
    }

    [Fact]
    public async Task Ingest_Signature_CheckedWhenGiven_RequiredWhenTheDatasetSaysSo()
    {
        var key = await CreateAsync("signed", requireSignature: true);
        using var client = _server.Anonymous();
        const string body = "{\"deploy\":\"web\"}";
        var good = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(body)));
        var bad = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(body + " ")));

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(client, "signed", key, body)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(client, "signed", key, body, signature: bad)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, "signed", key, body, signature: good, keyHeader: true)).StatusCode);
        Assert.Equal(1, (long)(await _admin.GetFromJsonAsync<JsonNode>("/api/v1/datasets/signed"))!["records"]!);
    }

    [Fact]
    public async Task Ingest_SignalsTheAppend_ToAWaitingReader()
    {
        var key = await CreateAsync("signal");
        var store = _server.Service<IKiteflowStore>();
        var dataset = (await store.Datasets.GetAsync("signal", CancellationToken.None))!;
        var waiting = _server.Service<IDatasetAppendSignal>().WaitForMoreThanAsync(dataset.Id, dataset.RecordCount, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        using var client = _server.Anonymous();
        await IngestAsync(client, "signal", key, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}");

        Assert.Equal(3, await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(3, await _server.Service<IDatasetAppendSignal>().WaitForMoreThanAsync(dataset.Id, 2, CancellationToken.None));
    }

    [Fact]
    public async Task RotatedKey_ReplacesTheOldOne()
    {
        var old = await CreateAsync("rotated");
        var rotated = await _admin.PostAsJsonAsync("/api/v1/datasets/rotated/ingest-key", new { });
        var key = (string)(await rotated.Content.ReadFromJsonAsync<JsonNode>())!["ingestKey"]!;
        using var client = _server.Anonymous();

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(client, "rotated", old, "{\"a\":1}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, "rotated", key, "{\"a\":1}")).StatusCode);
    }

    private async Task<string> CreateAsync(string name, bool requireSignature = false)
    {
        var response = await _admin.PostAsJsonAsync("/api/v1/datasets", new { name, source = "ingest", requireSignature });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["ingestKey"]!;
    }

    private static async Task<JsonNode> IngestAsync(HttpClient client, string dataset, string key, string body, string? idempotencyKey = null)
    {
        using var response = await SendAsync(client, dataset, key, body, idempotencyKey: idempotencyKey);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string dataset, string? key, string body, string? signature = null, string? idempotencyKey = null, bool keyHeader = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/ingest/{dataset}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null && keyHeader)
        {
            request.Headers.Add("X-Kiteflow-Key", key);
        }
        else if (key is not null)
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        if (signature is not null)
        {
            request.Headers.Add("X-Kiteflow-Signature", signature);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request);
    }
}
