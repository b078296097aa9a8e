using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Kiteflow.Sandbox.Tests;

/// <summary>A sandbox started on a free port for one test, with an HttpClient that sends the default token.</summary>
internal sealed class TestSandbox : IAsyncDisposable
{
    private TestSandbox(SandboxServer server, FakeTimeProvider? time)
    {
        Server = server;
        Time = time;
        Client = Create(server, SandboxServer.DefaultToken);
    }

    public SandboxServer Server { get; }

    public FakeTimeProvider? Time { get; }

    public HttpClient Client { get; }

    public static async Task<TestSandbox> StartAsync(Action<SandboxOptions>? configure = null, bool fakeTime = false)
    {
        var time = fakeTime ? new FakeTimeProvider(new DateTimeOffset(2025, 12, 2, 5, 29, 25, TimeSpan.Zero)) : null;
        var options = new SandboxOptions { RandomSeed = 42 };
        if (time is not null)
        {
            options.TimeProvider = time;
        }

        configure?.Invoke(options);
        return new TestSandbox(await SandboxServer.StartAsync(options), time);
    }

    public static HttpClient Create(SandboxServer server, string? token, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public HttpClient ClientFor(string token, TimeSpan? timeout = null) => Create(Server, token, timeout);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

internal static class Http
{
    public static StringContent Json(JsonNode? body) => new(body?.ToJsonString() ?? "{}", Encoding.UTF8, "application/json");

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(
        this HttpClient client, HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = Json(body);
        }

        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    public static async Task<JsonNode> GetJsonAsync(this HttpClient client, string path)
    {
        var (status, body, _) = await client.SendAsync(HttpMethod.Get, path);
        Assert.True(status == 200, $"GET {path} answered {status}: {body?.ToJsonString()}");
        return body!;
    }

    public static async Task<JsonObject> CreateBuildAsync(this HttpClient client, string pipeline = "web", JsonObject? extra = null)
    {
        var body = new JsonObject { ["commit"] = "HEAD", ["branch"] = "main", ["message"] = "test" };
        foreach (var (key, value) in extra ?? [])
        {
            body[key] = value?.DeepClone();
        }

        var (status, created, _) = await client.SendAsync(HttpMethod.Post, $"/v2/organizations/acme/pipelines/{pipeline}/builds", body);
        Assert.True(status == 201, $"create build answered {status}: {created?.ToJsonString()}");
        return created!.AsObject();
    }

    public static Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SetBuildStateAsync(
        this HttpClient client, string pipeline, int number, string state, JsonObject? extra = null)
    {
        var body = new JsonObject { ["state"] = state };
        foreach (var (key, value) in extra ?? [])
        {
            body[key] = value?.DeepClone();
        }

        return client.SendAsync(HttpMethod.Put, $"/_sandbox/organizations/acme/pipelines/{pipeline}/builds/{number}/state", body);
    }
}
