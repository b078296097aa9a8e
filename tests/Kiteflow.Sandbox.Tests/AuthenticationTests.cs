using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

public sealed class AuthenticationTests
{
    private const string AuthRequired = "Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication";

    [Theory]
    [InlineData(null)]
    [InlineData("bkua_wrong")]
    public async Task Request_MissingOrUnknownToken_Answers401WithDocumentedBody(string? token)
    {
        await using var sandbox = await TestSandbox.StartAsync();
        using var client = TestSandbox.Create(sandbox.Server, token);

        var (status, body, response) = await client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds",
            new JsonObject { ["commit"] = "HEAD", ["branch"] = "main" });

        Assert.Equal(401, status);
        Assert.Equal(AuthRequired, body!["message"]!.GetValue<string>());
        Assert.True(response.Headers.Contains("RateLimit-Remaining"));
        Assert.Empty((await sandbox.Client.GetJsonAsync("/v2/organizations/acme/builds")).AsArray());
    }

    [Fact]
    public async Task Request_TokenWithoutScope_Answers403NamingTheScope()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        sandbox.Server.AddToken(new SandboxToken("bkua_readonly", ["read_builds", "read_pipelines"]));
        using var client = sandbox.ClientFor("bkua_readonly");

        var (status, body, _) = await client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds",
            new JsonObject { ["commit"] = "HEAD", ["branch"] = "main" });

        Assert.Equal(403, status);
        Assert.Equal("Your access token doesn't have the write_builds scope", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task AccessToken_Get_ReturnsTheTokensScopes()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        sandbox.Server.AddToken(SandboxToken.Parse("bkua_two:read_builds,write_builds"));

        var token = await sandbox.ClientFor("bkua_two").GetJsonAsync("/v2/access-token");

        Assert.Equal(["read_builds", "write_builds"], token["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("admin@sandbox.example", token["user"]!["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task AccessToken_Delete_RevokesTheToken()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        sandbox.Server.AddToken(SandboxToken.Parse("bkua_short_lived:*"));
        using var client = sandbox.ClientFor("bkua_short_lived");

        var (revoked, _, _) = await client.SendAsync(HttpMethod.Delete, "/v2/access-token");
        var (after, _, _) = await client.SendAsync(HttpMethod.Get, "/v2/access-token");

        Assert.Equal(204, revoked);
        Assert.Equal(401, after);
        Assert.Equal(200, (await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/access-token")).Status);
    }

    [Fact]
    public async Task Organization_TokenLimitedToAnother_Answers404()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        sandbox.Server.AddToken(new SandboxToken("bkua_elsewhere", ["*"]) { Organizations = ["other-org"] });

        var (status, body, _) = await sandbox.ClientFor("bkua_elsewhere").SendAsync(HttpMethod.Get, "/v2/organizations/acme/pipelines");

        Assert.Equal(404, status);
        Assert.Equal("No organization found", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pipeline_MemberCannotSeeIt_Answers404NoPipelineFound()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var (status, body, _) = await sandbox.ClientFor(World.MemberToken).SendAsync(HttpMethod.Get, "/v2/organizations/acme/pipelines/docs/builds");
        var listed = await sandbox.ClientFor(World.MemberToken).GetJsonAsync("/v2/organizations/acme/pipelines");

        Assert.Equal(404, status);
        Assert.Equal("No pipeline found", body!["message"]!.GetValue<string>());
        Assert.DoesNotContain(listed.AsArray(), p => p!["slug"]!.GetValue<string>() == "docs");
    }

    [Fact]
    public async Task RequestLog_NeverHoldsTheToken()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        await sandbox.Client.CreateBuildAsync();

        var log = await sandbox.Client.GetJsonAsync("/_sandbox/requests");

        var entry = log["requests"]!.AsArray().Single()!;
        Assert.Equal("Bearer [REDACTED]", entry["headers"]!["Authorization"]!.GetValue<string>());
        Assert.DoesNotContain(SandboxServer.DefaultToken, log.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bkua_x:read_builds,write_builds", "bkua_x", 2)]
    [InlineData("bkua_x:*", "bkua_x", -1)]
    [InlineData("bkua_x:", "bkua_x", 0)]
    public void SandboxToken_Parse_ReadsValueAndScopes(string text, string value, int scopes)
    {
        var token = SandboxToken.Parse(text);

        Assert.Equal(value, token.Value);
        Assert.Equal(scopes < 0 ? Auth.Scopes.All.Count : scopes, token.Scopes.Count);
    }

    [Theory]
    [InlineData("no-colon")]
    [InlineData(":read_builds")]
    [InlineData("")]
    public void SandboxToken_TryParse_RejectsMalformedText(string text) => Assert.False(SandboxToken.TryParse(text, out _));
}
