using System.Net;
using System.Net.Sockets;
using System.Text;
using Kiteflow.Delivery.Credentials;
using Kiteflow.Sandbox;

namespace Kiteflow.Delivery.Tests.Credentials;

public sealed class AccessTokenClientTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Created = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private SandboxServer _sandbox = null!;

    public async Task InitializeAsync() => _sandbox = await SandboxServer.StartAsync(new SandboxOptions());

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sandbox.DisposeAsync();
    }

    private Credential SandboxCredential(string token) => new("sandbox", token, _sandbox.BaseAddress, Created);

    private static string NewToken() => $"bkua_test_{Guid.NewGuid():N}";

    [Fact]
    public async Task GetAsync_SandboxTokenWithKnownScopes_ReturnsItsScopesDescriptionAndUser()
    {
        var token = NewToken();
        _sandbox.AddToken(new SandboxToken(token, ["read_builds", "write_builds"]) { Description = "Release automation" });

        var result = await new AccessTokenClient(_http).GetAsync(SandboxCredential(token), CancellationToken.None);

        Assert.Equal(AccessTokenStatus.Valid, result.Status);
        Assert.True(result.IsValid);
        Assert.Equal(200, result.HttpStatus);
        var info = result.Token!;
        Assert.Equal(["read_builds", "write_builds"], info.Scopes);
        Assert.Equal("Release automation", info.Description);
        Assert.True(Guid.TryParse(info.Uuid, out _));
        Assert.NotNull(info.UserEmail);
        Assert.NotNull(info.UserName);
        Assert.NotNull(info.CreatedAt);
        Assert.Null(info.ExpiresAt);
        Assert.True(info.HasScope("write_builds"));
        Assert.False(info.HasScope("write_pipelines"));
        Assert.Null(result.ScopeProblem("write_builds"));
        Assert.Contains("lacks the write_pipelines scope (it has only read_builds, write_builds)", result.ScopeProblem("write_pipelines"));
    }

    [Fact]
    public async Task GetAsync_RevokedToken_ReturnsRefused()
    {
        var token = NewToken();
        _sandbox.AddToken(new SandboxToken(token, ["read_builds"]));
        using (var revoke = new HttpRequestMessage(HttpMethod.Delete, new Uri(_sandbox.BaseAddress, "v2/access-token")))
        {
            revoke.Headers.Authorization = new("Bearer", token);
            using var revoked = await _http.SendAsync(revoke);
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        var result = await new AccessTokenClient(_http).GetAsync(SandboxCredential(token), CancellationToken.None);

        Assert.Equal(AccessTokenStatus.Refused, result.Status);
        Assert.Equal(401, result.HttpStatus);
        Assert.Null(result.Token);
        Assert.StartsWith("the token was refused (revoked, expired or mistyped)", result.Message);
        Assert.Contains("Authentication required", result.Message);
        Assert.DoesNotContain(token, result.Message);
        Assert.Equal(result.Message, result.ScopeProblem("write_builds"));
    }

    [Fact]
    public async Task GetAsync_UnknownToken_ReturnsRefused()
    {
        var result = await new AccessTokenClient(_http).GetAsync(SandboxCredential(NewToken()), CancellationToken.None);

        Assert.Equal(AccessTokenStatus.Refused, result.Status);
    }

    [Fact]
    public async Task GetAsync_NothingListening_ReturnsUnreachable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var credential = new Credential("gone", NewToken(), new Uri($"http://127.0.0.1:{port}"), Created);

        var result = await new AccessTokenClient(_http).GetAsync(credential, CancellationToken.None);

        Assert.Equal(AccessTokenStatus.Unreachable, result.Status);
        Assert.Null(result.HttpStatus);
        Assert.StartsWith($"http://127.0.0.1:{port} could not be reached", result.Message);
    }

    [Fact]
    public async Task GetAsync_SendsBearerTokenToV2AccessTokenUnderThePathPrefix()
    {
        HttpRequestMessage? seen = null;
        using var http = Stub(request =>
        {
            seen = request;
            return Json(HttpStatusCode.OK, """{"uuid":"u","scopes":[],"description":null,"created_at":null,"expires_at":null,"user":null}""");
        });
        var credential = new Credential("proxy", "bkua_abc", new Uri("https://proxy.example.com/buildkite/"), Created);

        var result = await new AccessTokenClient(http).GetAsync(credential, CancellationToken.None);

        Assert.True(result.IsValid);
        Assert.Equal("https://proxy.example.com/buildkite/v2/access-token", seen!.RequestUri!.ToString());
        Assert.Equal(HttpMethod.Get, seen.Method);
        Assert.Equal("Bearer bkua_abc", seen.Headers.Authorization!.ToString());
        Assert.Empty(result.Token!.Scopes);
        Assert.Contains("no scopes", result.ScopeProblem("write_builds"));
    }

    [Fact]
    public async Task GetAsync_IsoTimestampsAndBuildkiteExample_AreRead()
    {
        using var http = Stub(_ => Json(HttpStatusCode.OK, """
            {"uuid":"b63254c0-3271-4a98-8270-7cfbd6c2f14e","scopes":["read_build"],"description":"Development Token",
             "created_at":"2025-07-16 06:07:42 UTC","expires_at":"2025-07-23T06:07:42.874Z",
             "user":{"email":"algernon.m@buildkite.com","name":"Algernon Moncrieff"}}
            """));

        var result = await new AccessTokenClient(http).GetAsync(new Credential("acme", "bkua_abc", new Uri("https://api.buildkite.com"), Created), CancellationToken.None);

        var info = result.Token!;
        Assert.Equal("b63254c0-3271-4a98-8270-7cfbd6c2f14e", info.Uuid);
        Assert.Equal(new DateTimeOffset(2025, 7, 16, 6, 7, 42, TimeSpan.Zero), info.CreatedAt);
        Assert.Equal(new DateTimeOffset(2025, 7, 23, 6, 7, 42, 874, TimeSpan.Zero), info.ExpiresAt);
        Assert.Equal("Algernon Moncrieff", info.UserName);
        Assert.Equal("algernon.m@buildkite.com", info.UserEmail);
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, """{"message":"Forbidden"}""", nameof(AccessTokenStatus.Forbidden), "answered 403: \"Forbidden\"")]
    [InlineData(HttpStatusCode.InternalServerError, """{"message":"Oops"}""", nameof(AccessTokenStatus.UnexpectedResponse), "answered 500 Internal Server Error: \"Oops\"")]
    [InlineData(HttpStatusCode.BadGateway, "<html>\n<b>bad gateway</b>\n</html>", nameof(AccessTokenStatus.UnexpectedResponse), "answered 502 Bad Gateway: \"<html> <b>bad gateway</b> </html>\"")]
    [InlineData(HttpStatusCode.OK, "<html>a login page</html>", nameof(AccessTokenStatus.UnexpectedResponse), "answered 200 but not with a token's description")]
    [InlineData(HttpStatusCode.OK, """{"message":"🛠"}""", nameof(AccessTokenStatus.UnexpectedResponse), "is the API base a Buildkite API?")]
    public async Task GetAsync_OtherAnswers_AreValuesWithClearMessages(HttpStatusCode status, string body, string expected, string message)
    {
        using var http = Stub(_ => Json(status, body));

        var result = await new AccessTokenClient(http).GetAsync(new Credential("acme", "bkua_abc", new Uri("https://api.buildkite.com"), Created), CancellationToken.None);

        Assert.Equal(Enum.Parse<AccessTokenStatus>(expected), result.Status);
        Assert.Equal((int)status, result.HttpStatus);
        Assert.Null(result.Token);
        Assert.Contains(message, result.Message);
    }

    [Fact]
    public async Task GetAsync_RateLimited_SaysHowLongToWait()
    {
        using var http = Stub(_ =>
        {
            var response = Json(HttpStatusCode.TooManyRequests, """{"message":"You have exceeded your API rate limit. Please wait 42 seconds before making more requests.","scope":"rest_user","limit":50,"current":55,"reset":42}""");
            response.Headers.Add("RateLimit-Reset", "7");
            response.Headers.Add("RateLimit-User-Reset", "42");
            return response;
        });

        var result = await new AccessTokenClient(http).GetAsync(new Credential("acme", "bkua_abc", new Uri("https://api.buildkite.com"), Created), CancellationToken.None);

        Assert.Equal(AccessTokenStatus.RateLimited, result.Status);
        Assert.Contains("Wait 42 s and try again.", result.Message);
    }

    [Theory]
    [InlineData("""{"message":"You have exceeded your API rate limit. Please wait 3 seconds before making more requests.","scope":"rest_user","limit":50,"current":55,"reset":3}""")]
    [InlineData("""{"message":"Slow down"}""")]  // no reset in the body: the headers of the spent limit
    public async Task GetAsync_RateLimited_WaitsForTheSpentLimit_NotTheLaterReset(string body)
    {
        // Only the user's limit is spent; the organization's window resets much later and has room. Waiting for
        // the later reset held a run up for the organization's whole window.
        using var http = Stub(_ =>
        {
            var response = Json(HttpStatusCode.TooManyRequests, body);
            response.Headers.Add("RateLimit-Remaining", "150");
            response.Headers.Add("RateLimit-Reset", "57");
            response.Headers.Add("RateLimit-User-Remaining", "0");
            response.Headers.Add("RateLimit-User-Reset", "3");
            return response;
        });

        var result = await new AccessTokenClient(http).GetAsync(new Credential("acme", "bkua_abc", new Uri("https://api.buildkite.com"), Created), CancellationToken.None);

        Assert.Equal(AccessTokenStatus.RateLimited, result.Status);
        Assert.Equal(TimeSpan.FromSeconds(3), result.RetryAfter);
        Assert.Contains("Wait 3 s and try again.", result.Message);
    }

    [Fact]
    public async Task GetAsync_ServerEchoesTheToken_MessageRedactsIt()
    {
        const string token = "bkua_echoed_secret_value";
        using var http = Stub(_ => Json(HttpStatusCode.Unauthorized, $$"""{"message":"token {{token}} is unknown"}"""));

        var result = await new AccessTokenClient(http).GetAsync(new Credential("acme", token, new Uri("https://api.buildkite.com"), Created), CancellationToken.None);

        Assert.Equal(AccessTokenStatus.Refused, result.Status);
        Assert.Contains("token •••• is unknown", result.Message);
        Assert.DoesNotContain(token, result.Message);
    }

    [Fact]
    public async Task GetAsync_HttpClientTimesOut_ReturnsUnreachable()
    {
        using var http = new HttpClient(new StubHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("not reached");
        })) { Timeout = TimeSpan.FromMilliseconds(50) };

        var result = await new AccessTokenClient(http).GetAsync(new Credential("acme", "bkua_abc", new Uri("https://api.buildkite.com"), Created), CancellationToken.None);

        Assert.Equal(AccessTokenStatus.Unreachable, result.Status);
        Assert.Contains("did not answer within", result.Message);
    }

    [Fact]
    public async Task GetAsync_CallerCancels_Throws()
    {
        using var http = new HttpClient(new StubHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("not reached");
        }));
        using var cancellation = new CancellationTokenSource();
        var pending = new AccessTokenClient(http).GetAsync(new Credential("acme", "bkua_abc", new Uri("https://api.buildkite.com"), Created), cancellation.Token);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }

    [Fact]
    public void AccessTokenUrl_JoinsTheBaseAndPath()
    {
        Assert.Equal("https://api.buildkite.com/v2/access-token", AccessTokenClient.AccessTokenUrl(new Uri("https://api.buildkite.com")).ToString());
        Assert.Equal("http://127.0.0.1:4000/v2/access-token", AccessTokenClient.AccessTokenUrl(new Uri("http://127.0.0.1:4000/")).ToString());
    }

    private static HttpClient Stub(Func<HttpRequestMessage, HttpResponseMessage> respond) =>
        new(new StubHandler((request, _) => Task.FromResult(respond(request))));

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private sealed class StubHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => respond(request, cancellationToken);
    }
}
