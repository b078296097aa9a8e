using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox;

namespace Kiteflow.Server.Tests;

/// <summary>The calls the delivery tests make to a server (in this process or a <c>kiteflow serve</c> process), each checked.</summary>
internal sealed class ServerApi(HttpClient client) : IDisposable
{
    public HttpClient Client => client;

    /// <summary>A client with <paramref name="apiKey"/> as its bearer token.</summary>
    public static ServerApi WithKey(Uri baseAddress, string apiKey)
    {
        var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = baseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        return new ServerApi(http);
    }

    /// <summary>Creates a dataset; returns its ingest key.</summary>
    public async Task<string> CreateDatasetAsync(string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/datasets", new { name });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (string)(await response.Content.ReadFromJsonAsync<JsonNode>())!["ingestKey"]!;
    }

    public async Task UploadAsync(string dataset, string jsonLines)
    {
        using var content = new StringContent(jsonLines, Encoding.UTF8, "application/x-ndjson");
        var response = await client.PostAsync($"/api/v1/datasets/{dataset}/records?format=jsonl", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task CreateCredentialAsync(string name, string token, Uri apiBase)
    {
        var response = await client.PostAsJsonAsync("/api/v1/credentials", new { name, token, apiBase = apiBase.ToString() });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task CreateDestinationAsync(string name, string dataset, string credential, string settings)
    {
        var response = await client.PostAsJsonAsync("/api/v1/destinations", new { name, dataset, credential, settings = JsonNode.Parse(settings) });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonNode> PostAsync(string path, object? body = null)
    {
        var response = await client.PostAsJsonAsync(path, body ?? new { });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public async Task<JsonNode> StatusAsync(string destination) => (await client.GetFromJsonAsync<JsonNode>($"/api/v1/destinations/{destination}/status"))!;

    /// <summary>Polls the destination's status until <paramref name="done"/> holds; fails with the last one after five minutes (no timing is asserted).</summary>
    public Task<JsonNode> WaitForStatusAsync(string destination, Func<JsonNode, bool> done) => Eventually.WaitForAsync(() => StatusAsync(destination), done);

    /// <summary>Every record of the dataset, paged through the API, with its offset.</summary>
    public async Task<List<(long Offset, JsonNode Record)>> RecordsAsync(string dataset)
    {
        var records = new List<(long, JsonNode)>();
        long? from = 0;
        while (from is { } next)
        {
            var page = (await client.GetFromJsonAsync<JsonNode>($"/api/v1/datasets/{dataset}/records?from={next}&limit=1000"))!;
            records.AddRange(page["records"]!.AsArray().Select(r => ((long)r!["offset"]!, r["record"]!)));
            from = (long?)page["next"];
        }

        return records;
    }

    public void Dispose() => client.Dispose();

    /// <summary>The builds a sandbox holds, every organization's.</summary>
    public static List<JsonNode> Builds(SandboxServer sandbox) =>
        JsonNode.Parse(sandbox.GetStateJson())!["organizations"]!.AsArray().SelectMany(o => o!["builds"]!.AsArray()).Select(b => b!).ToList();

    /// <summary>The requests a sandbox logged (<c>GET /_sandbox/requests</c>), oldest first.</summary>
    public static async Task<List<JsonNode>> RequestsAsync(SandboxServer sandbox)
    {
        using var http = new HttpClient();
        var log = await http.GetFromJsonAsync<JsonNode>(new Uri(sandbox.BaseAddress, "/_sandbox/requests"));
        return log!["requests"]!.AsArray().Select(r => r!).ToList();
    }
}
