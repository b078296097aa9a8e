using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

public sealed class RateLimitTests
{
    private static readonly string[] Headers =
    [
        "RateLimit-Scope", "RateLimit-Remaining", "RateLimit-Limit", "RateLimit-Reset",
        "RateLimit-User-Scope", "RateLimit-User-Remaining", "RateLimit-User-Limit", "RateLimit-User-Reset",
    ];

    private static JsonObject NewBuild => new() { ["commit"] = "HEAD", ["branch"] = "main" };

    [Fact]
    public async Task EveryResponse_CarriesBothSetsOfHeaders()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.UserLimit = RateLimitSetting.Parse("5/60s"), fakeTime: true);
        using var anonymous = TestSandbox.Create(sandbox.Server, null);
        var responses = new List<(int Status, HttpResponseMessage Response)>();
        async Task Send(HttpClient client, HttpMethod method, string path, JsonNode? body = null)
        {
            var (status, _, response) = await client.SendAsync(method, path, body);
            responses.Add((status, response));
        }

        await Send(sandbox.Client, HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds", NewBuild);
        await Send(sandbox.Client, HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds", new JsonObject());
        await Send(sandbox.Client, HttpMethod.Get, "/v2/organizations/acme/pipelines/nope");
        await Send(sandbox.Client, HttpMethod.Get, "/v2/no/such/route");
        await Send(anonymous, HttpMethod.Get, "/v2/organizations/acme");
        await Send(anonymous, HttpMethod.Get, "/");
        await Send(sandbox.Client, HttpMethod.Get, "/v2/organizations/acme");
        await Send(sandbox.Client, HttpMethod.Get, "/v2/organizations/acme");

        Assert.Equal([201, 422, 404, 404, 401, 200, 200, 429], responses.Select(r => r.Status));
        Assert.All(responses, r => Assert.All(Headers, h => Assert.True(r.Response.Headers.Contains(h), $"{r.Status} lacks {h}")));
    }

    [Fact]
    public async Task UserLimit_Exceeded_Answers429ChangesNothingAndHonoursReset()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.UserLimit = RateLimitSetting.Parse("3/60s"), fakeTime: true);
        for (var i = 0; i < 3; i++)
        {
            await sandbox.Client.CreateBuildAsync();
        }

        var (status, body, response) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds", NewBuild);
        var reset = body!["reset"]!.GetValue<int>();
        var state = await sandbox.Client.GetJsonAsync("/_sandbox/state");

        Assert.Equal(429, status);
        Assert.Equal("rest_user", body["scope"]!.GetValue<string>());
        Assert.Equal(3, body["limit"]!.GetValue<int>());
        Assert.Equal(4, body["current"]!.GetValue<int>());
        Assert.Equal(reset.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("RateLimit-User-Reset").Single());
        Assert.Equal("0", response.Headers.GetValues("RateLimit-User-Remaining").Single());
        Assert.Equal(3, state["organizations"]![0]!["builds"]!.AsArray().Count);

        sandbox.Time!.Advance(TimeSpan.FromSeconds(reset - 1));
        Assert.Equal(429, (await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds", NewBuild)).Status);
        sandbox.Time.Advance(TimeSpan.FromSeconds(1));
        var (after, _, afterResponse) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds", NewBuild);
        Assert.Equal(201, after);
        Assert.Equal("2", afterResponse.Headers.GetValues("RateLimit-User-Remaining").Single());
        Assert.False(afterResponse.Headers.Contains("RateLimit-User-Warning"));
    }

    [Fact]
    public async Task FixedWindow_ResetsOnTheMinute_AsBuildkitesResetAtSuggests()
    {
        // The fake clock starts at 05:29:25: the window ends at 05:30:00, 35 s later.
        await using var sandbox = await TestSandbox.StartAsync(fakeTime: true);

        var (_, _, response) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme");
        var limits = await sandbox.Client.GetJsonAsync("/v2/organizations/acme/rate_limit");

        Assert.Equal("35", response.Headers.GetValues("RateLimit-Reset").Single());
        Assert.Equal(2, limits["scopes"]!["rest"]!["current"]!.GetValue<int>());
        Assert.Equal("2025-12-02T05:30:00Z", limits["scopes"]!["rest"]!["reset_at"]!.GetValue<string>());
    }

    [Fact]
    public async Task OrganizationLimit_IsSharedByItsUsers()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.OrganizationLimit = RateLimitSetting.Parse("3/60s"), fakeTime: true);
        using var member = sandbox.ClientFor(World.MemberToken);

        await sandbox.Client.GetJsonAsync("/v2/organizations/acme/pipelines");
        await sandbox.Client.GetJsonAsync("/v2/organizations/acme/pipelines");
        await member.GetJsonAsync("/v2/organizations/acme/pipelines");
        var (status, body, response) = await member.SendAsync(HttpMethod.Get, "/v2/organizations/acme/pipelines");

        Assert.Equal(429, status);
        Assert.Equal("rest", body!["scope"]!.GetValue<string>());
        Assert.Equal("You have exceeded your API rate limit.", response.Headers.GetValues("RateLimit-Warning").Single());
        // The refused request took no slot of Morgan's own budget: one admitted request so far.
        Assert.Equal("49", response.Headers.GetValues("RateLimit-User-Remaining").Single());
    }

    [Fact]
    public async Task SlidingWindow_FreesASlotWhenTheOldestRequestLeaves()
    {
        await using var sandbox = await TestSandbox.StartAsync(
            o =>
            {
                o.UserLimit = RateLimitSetting.Parse("2/10s");
                o.RateLimitWindow = RateLimitWindowKind.Sliding;
            },
            fakeTime: true);

        await sandbox.Client.GetJsonAsync("/v2/organizations/acme");
        sandbox.Time!.Advance(TimeSpan.FromSeconds(6));
        await sandbox.Client.GetJsonAsync("/v2/organizations/acme");
        var (refused, body, _) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme");
        sandbox.Time.Advance(TimeSpan.FromSeconds(4));
        var (admitted, _, _) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme");

        Assert.Equal(429, refused);
        Assert.Equal(4, body!["reset"]!.GetValue<int>());
        Assert.Equal(200, admitted);
    }

    [Theory]
    [InlineData("200/60s", 200, 60_000)]
    [InlineData("20/2s", 20, 2_000)]
    [InlineData("50/1m", 50, 60_000)]
    [InlineData("10/500ms", 10, 500)]
    [InlineData("5/30", 5, 30_000)]
    public void RateLimitSetting_Parse_ReadsCountAndWindow(string text, int limit, int milliseconds)
    {
        var setting = RateLimitSetting.Parse(text);

        Assert.Equal(limit, setting.Limit);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), setting.Window);
    }

    [Theory]
    [InlineData("")]
    [InlineData("200")]
    [InlineData("0/60s")]
    [InlineData("-1/60s")]
    [InlineData("10/0s")]
    [InlineData("ten/60s")]
    [InlineData("10/60x")]
    public void RateLimitSetting_TryParse_RejectsMalformedText(string text) => Assert.False(RateLimitSetting.TryParse(text, out _));
}
