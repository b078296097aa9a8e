using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

public sealed class RobustnessTests
{
    private const string Builds = "v2/organizations/acme/pipelines/web/builds";

    private static async Task<(int Status, JsonNode? Body, string? ContentType)> PostRawAsync(HttpClient client, HttpContent content)
    {
        using var response = await client.PostAsync(Builds, content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text), response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("{\"commit\": ")]
    [InlineData("{\"commit\": \"a\", \"commit\": \"b\"")]
    [InlineData("not json at all")]
    public async Task MalformedJson_Answers400Json(string body)
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var (status, answer, type) = await PostRawAsync(sandbox.Client, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(400, status);
        Assert.Equal("application/json", type);
        Assert.StartsWith("Problems parsing JSON", answer!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeeplyNestedJson_Answers400Json()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        var body = "{\"env\":" + string.Concat(Enumerable.Repeat("[", 200)) + string.Concat(Enumerable.Repeat("]", 200)) + "}";

        var (status, _, type) = await PostRawAsync(sandbox.Client, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(400, status);
        Assert.Equal("application/json", type);
    }

    [Fact]
    public async Task FormBody_Answers415Json()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var (status, answer, type) = await PostRawAsync(sandbox.Client, new FormUrlEncodedContent([new("commit", "HEAD"), new("branch", "main")]));

        Assert.Equal(415, status);
        Assert.Equal("application/json", type);
        Assert.Contains("JSON", answer!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonWithoutContentType_IsRefusedUnlessConfigured()
    {
        await using var strict = await TestSandbox.StartAsync();
        await using var lenient = await TestSandbox.StartAsync(o => o.RequireJsonContentType = false);
        static HttpContent Body()
        {
            var content = new ByteArrayContent("""{"commit":"HEAD","branch":"main"}"""u8.ToArray());
            content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            return content;
        }

        Assert.Equal(415, (await PostRawAsync(strict.Client, Body())).Status);
        Assert.Equal(201, (await PostRawAsync(lenient.Client, Body())).Status);
    }

    [Fact]
    public async Task HugeBody_Answers413Json()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.MaxRequestBodyBytes = 1024);
        var huge = new JsonObject { ["commit"] = "HEAD", ["branch"] = "main", ["message"] = new string('x', 4096) };

        var (status, answer, type) = await PostRawAsync(sandbox.Client, Http.Json(huge));
        var (chunked, _, _) = await PostRawAsync(sandbox.Client, new StreamContent(new MemoryStream(new byte[8192])) { Headers = { ContentType = new("application/json") } });

        Assert.Equal(413, status);
        Assert.Equal("application/json", type);
        Assert.Contains("1024", answer!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(413, chunked);
    }

    [Theory]
    [InlineData("GET", "v2/organizations/acme/nothing/here")]
    [InlineData("DELETE", "v2/organizations/acme/builds")]
    [InlineData("GET", "favicon.ico")]
    [InlineData("GET", "_sandbox/nothing")]
    public async Task UnknownRoute_Answers404Json(string method, string path)
    {
        await using var sandbox = await TestSandbox.StartAsync();

        using var response = await sandbox.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal("Not Found", body!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("v2/organizations/acme/pipelines/web/builds/abc")]
    [InlineData("v2/organizations/acme/pipelines/web/builds/99999999999999999999")]
    [InlineData("v2/organizations/acme/pipelines/web/builds/-1")]
    [InlineData("v2/organizations/acme/agents/not-a-guid")]
    [InlineData("v2/organizations/acme/jobs/%E2%82%AC/retry")]
    public async Task OddIdentifiers_Answer404NotACrash(string path)
    {
        await using var sandbox = await TestSandbox.StartAsync();

        using var response = await sandbox.Client.SendAsync(new HttpRequestMessage(path.EndsWith("retry", StringComparison.Ordinal) ? HttpMethod.Put : HttpMethod.Get, path));

        Assert.Equal(404, (int)response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]);
    }

    [Fact]
    public async Task WrongJsonTypes_AreValidationErrorsNotCrashes()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var (build, buildError, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/" + Builds,
            JsonNode.Parse("""{"commit": {"x": 1}, "branch": ["main"], "env": "nope", "meta_data": 5}"""));
        var (pipeline, _, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines",
            JsonNode.Parse("""{"name": 5, "repository": true, "steps": "x", "teams": 3}"""));

        Assert.Equal(422, build);
        Assert.Equal(["commit", "branch", "env", "meta_data"], buildError!["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()));
        Assert.Equal(422, pipeline);
    }
}
