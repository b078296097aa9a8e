using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kiteflow.Server.Tests.Endpoints;

public sealed class SecurityTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(o => o.LoginFailuresPerUser = 3);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task EveryEndpoint_WithoutLogin_Is401_ButHealthLoginAndIngest()
    {
        var endpoints = _server.App.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().ToList();
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = _server.BaseAddress };
        var open = new List<string>();
        var checkedEndpoints = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart parameter => parameter.Name == "id" ? "1" : parameter.Name == "documentName" ? "v1" : "x",
                _ => "x",
            }))));
            foreach (var method in methods)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method is "GET" or "DELETE" ? null : JsonContent.Create(new { }) };
                using var response = await client.SendAsync(request);
                checkedEndpoints.Add($"{method} {path}");

                // A page of the web UI sends a browser to the login page instead of answering 401.
                var toLogin = response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.StartsWith("/login", StringComparison.Ordinal);
                if (response.StatusCode != HttpStatusCode.Unauthorized && !toLogin)
                {
                    open.Add($"{method} {path} → {(int)response.StatusCode}");
                }
            }
        }

        Assert.True(checkedEndpoints.Count > 25, $"only {checkedEndpoints.Count} endpoints found");

        // Delivery's endpoints are among those checked (the list is every mapped endpoint, so this guards the enumeration).
        foreach (var delivery in (string[])["POST activate", "POST pause", "POST resume", "GET status", "GET runs", "GET rejected", "POST rejected/retry"])
        {
            var (method, action) = (delivery.Split(' ')[0], delivery.Split(' ')[1]);
            Assert.Contains($"{method} /api/v1/destinations/x/{action}", checkedEndpoints);
        }

        // Logging in answers 400 to an empty body; ingest answers 401 without its dataset's key (tested in IngestTests).
        // The UI's login page, its icon and its assets (styles and scripts, no data) are served to anyone.
        Assert.Equal(["GET /favicon.ico → 302", "GET /healthz → 200", "GET /login → 200", "GET /ui/x/x → 404", "POST /api/v1/session → 400"], open.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Login_WrongPassword_Is401_AndAudited()
    {
        using var client = _server.Anonymous();
        var response = await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = "wrong" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var admin = await _server.LoginAsync();
        var audit = await admin.GetFromJsonAsync<JsonNode>("/api/v1/audit?resourceType=session");
        Assert.Contains(audit!["items"]!.AsArray(), e => (string?)e!["action"] == "session.login-failed");
        Assert.Contains(audit["items"]!.AsArray(), e => (string?)e!["action"] == "session.login");
    }

    [Fact]
    public async Task Login_AfterTooManyFailures_IsThrottledEvenWithTheRightPassword()
    {
        using var client = _server.Anonymous();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = "wrong" + i })).StatusCode);
        }

        var refused = await client.PostAsJsonAsync("/api/v1/session", new { user = "admin", password = ServerHarness.AdminPassword });

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter is not null);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task CookieRequestThatChangesState_WithoutAntiforgeryToken_Is403_WithIt_Succeeds()
    {
        using var withoutToken = await _server.LoginAsync(sendAntiforgeryToken: false);
        var refused = await withoutToken.PostAsJsonAsync("/api/v1/datasets", new { name = "csrf" });
        var read = await withoutToken.GetAsync("/api/v1/datasets");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Empty((await read.Content.ReadFromJsonAsync<JsonArray>())!);

        using var withToken = await _server.LoginAsync();
        Assert.Equal(HttpStatusCode.Created, (await withToken.PostAsJsonAsync("/api/v1/datasets", new { name = "csrf" })).StatusCode);
    }

    [Fact]
    public async Task ApiKey_WorksAsBearerWithoutAntiforgery_CannotMakeKeys_StopsWhenRevoked()
    {
        var (client, key) = await _server.ApiKeyClientAsync();
        using (client)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/datasets", new { name = "by-key" })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "more" })).StatusCode);

            using var admin = await _server.LoginAsync();
            var keys = await admin.GetFromJsonAsync<JsonArray>("/api/v1/api-keys");
            Assert.DoesNotContain(key, keys!.ToJsonString());
            var id = (long)keys![0]!["id"]!;
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/api-keys/{id}")).StatusCode);

            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/datasets")).StatusCode);
        }
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        using var client = await _server.LoginAsync();
        Assert.Equal("admin", (string?)(await client.GetFromJsonAsync<JsonNode>("/api/v1/session"))!["user"]);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/session")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/session")).StatusCode);
    }

    [Fact]
    public async Task OpenApiDocumentAndMetrics_AreServedBehindLogin()
    {
        using var client = await _server.LoginAsync();
        var document = await client.GetFromJsonAsync<JsonNode>("/openapi/v1.json");
        var paths = document!["paths"]!.AsObject().Select(p => p.Key).ToList();

        Assert.Contains("/api/v1/datasets", paths);
        Assert.Contains("/api/v1/destinations/{name}", paths);
        Assert.Contains("/ingest/{dataset}", paths);
        Assert.Contains("/api/v1/credentials/{name}/check", paths);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("# TYPE", metrics);
    }
}
