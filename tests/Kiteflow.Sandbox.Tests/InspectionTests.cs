using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

public sealed class InspectionTests
{
    private static readonly Action<SandboxOptions> Generous = o =>
    {
        o.UserLimit = RateLimitSetting.Parse("100000/60s");
        o.OrganizationLimit = RateLimitSetting.Parse("100000/60s");
    };

    [Fact]
    public async Task State_ListsBuildsWithTheirMetaData_AndResetRestoresTheSeed()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        await sandbox.Client.CreateBuildAsync("web", new JsonObject { ["meta_data"] = new JsonObject { ["record"] = "1" } });
        await World.SendOkAsync(sandbox.Client, HttpMethod.Delete, "/v2/organizations/acme/pipelines/docs");

        var before = await sandbox.Client.GetJsonAsync("/_sandbox/state");
        await World.SendOkAsync(sandbox.Client, HttpMethod.Post, "/_sandbox/reset");
        var after = await sandbox.Client.GetJsonAsync("/_sandbox/state");

        var build = before["organizations"]![0]!["builds"]![0]!;
        Assert.Equal("web", build["pipeline"]!.GetValue<string>());
        Assert.Equal("1", build["meta_data"]!["record"]!.GetValue<string>());
        Assert.Equal(2, before["organizations"]![0]!["pipelines"]!.AsArray().Count);
        Assert.Empty(after["organizations"]![0]!["builds"]!.AsArray());
        Assert.Equal(3, after["organizations"]![0]!["pipelines"]!.AsArray().Count);
        Assert.True(JsonNode.DeepEquals(after, JsonNode.Parse(sandbox.Server.GetStateJson())));
    }

    [Fact]
    public async Task RequestLog_IsCappedAndCleared()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.RequestLogCapacity = 5);
        for (var i = 0; i < 8; i++)
        {
            await sandbox.Client.SendAsync(HttpMethod.Get, $"/v2/organizations/acme?i={i}");
        }

        var log = await sandbox.Client.GetJsonAsync("/_sandbox/requests");
        await World.SendOkAsync(sandbox.Client, HttpMethod.Delete, "/_sandbox/requests");
        var cleared = await sandbox.Client.GetJsonAsync("/_sandbox/requests");

        Assert.Equal(5, log["count"]!.GetValue<int>());
        Assert.Equal(3, log["dropped"]!.GetValue<int>());
        Assert.Equal("?i=3", log["requests"]![0]!["query"]!.GetValue<string>());
        Assert.Equal(200, log["requests"]![0]!["status"]!.GetValue<int>());
        Assert.Equal(0, cleared["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task RequestLog_KeepsTheBodyUpToItsLimit()
    {
        await using var sandbox = await TestSandbox.StartAsync(o => o.RequestLogBodyLimit = 10);
        await sandbox.Client.CreateBuildAsync();

        var entry = (await sandbox.Client.GetJsonAsync("/_sandbox/requests"))["requests"]![0]!;

        Assert.Equal(10, entry["body"]!.GetValue<string>().Length);
        Assert.True(entry["bodyTruncated"]!.GetValue<bool>());
        Assert.Equal("POST", entry["method"]!.GetValue<string>());
        Assert.Equal(201, entry["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task ConcurrentClients_EachBuildOnceWithUniqueNumbers()
    {
        await using var sandbox = await TestSandbox.StartAsync(Generous);
        const int clients = 8;
        const int perClient = 100;

        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            using var client = sandbox.ClientFor(SandboxServer.DefaultToken);
            for (var i = 0; i < perClient; i++)
            {
                await client.CreateBuildAsync("web", new JsonObject { ["meta_data"] = new JsonObject { ["record"] = $"{c}-{i}" } });
            }
        }));

        var builds = (await sandbox.Client.GetJsonAsync("/_sandbox/state"))["organizations"]![0]!["builds"]!.AsArray();
        Assert.Equal(clients * perClient, builds.Count);
        Assert.Equal(Enumerable.Range(1, clients * perClient), builds.Select(b => b!["number"]!.GetValue<int>()).Order());
        Assert.Equal(clients * perClient, builds.Select(b => b!["meta_data"]!["record"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task TensOfThousandsOfBuilds_StayQueryable()
    {
        await using var sandbox = await TestSandbox.StartAsync(Generous);
        var runtime = sandbox.Server.Runtime;
        lock (runtime.Store.Gate)
        {
            var web = runtime.Store.FindOrganization("acme")!.Pipelines[0];
            var admin = runtime.Store.Users[0];
            for (var i = 0; i < 30_000; i++)
            {
                State.BuildFactory.Create(runtime.Store, web, admin, "api", "HEAD", "main", null, [],
                    new Dictionary<string, string> { ["record"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }, null, null, false, false, null);
            }
        }

        var found = await sandbox.Client.GetJsonAsync("/v2/organizations/acme/builds?meta_data[record]=12345");
        var page = await sandbox.Client.GetJsonAsync("/v2/organizations/acme/pipelines/web/builds?per_page=100&page=2");

        Assert.Equal(12346, Assert.Single(found.AsArray())!["number"]!.GetValue<int>());
        Assert.Equal(29_900, page[0]!["number"]!.GetValue<int>());
    }

    [Fact]
    public async Task SeedFile_LoadsItsWorldAndTokens()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """
            {
              "users": [{ "name": "Ann", "email": "ann@example.com" }],
              "tokens": [{ "token": "bkua_ann", "scopes": ["read_pipelines", "write_builds"] }],
              "organizations": [{ "slug": "initech", "requiresClusterId": true,
                                  "pipelines": [{ "name": "TPS Reports", "repository": "git@github.com:initech/tps.git", "configuration": "steps:\n  - command: make" }] }]
            }
            """);
            await using var sandbox = await TestSandbox.StartAsync(o => o.SeedFile = file);
            using var ann = sandbox.ClientFor("bkua_ann");

            var pipelines = await ann.GetJsonAsync("/v2/organizations/initech/pipelines");
            var (status, _, _) = await ann.SendAsync(HttpMethod.Post, "/v2/organizations/initech/pipelines/tps-reports/builds",
                new JsonObject { ["commit"] = "HEAD", ["branch"] = "main" });
            var (defaultToken, _, _) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/initech/pipelines");

            Assert.Equal("tps-reports", pipelines[0]!["slug"]!.GetValue<string>());
            Assert.Equal(201, status);
            Assert.Equal(401, defaultToken);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task SeedFile_ReportsEveryProblem()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """
            {
              "users": [{ "name": "Ann", "email": "ann@example.com" }],
              "tokens": [{ "token": "bkua_x", "user": "nobody@example.com" }],
              "organizations": [{ "slug": "o", "pipelines": [{ "name": "p", "repository": "r", "cluster": "missing" }] }]
            }
            """);

            var error = await Assert.ThrowsAsync<ArgumentException>(() => SandboxServer.StartAsync(new SandboxOptions { SeedFile = file }));

            Assert.Contains("tokens[0].user", error.Message, StringComparison.Ordinal);
            Assert.Contains("organizations[0].pipelines[0].cluster", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Options_Validate_ListsEveryProblem()
    {
        var options = new SandboxOptions { Port = 70000, MaxRequestBodyBytes = 0, SeedFile = "/no/such/seed.json" };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Port", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRequestBodyBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("SeedFile", error.Message, StringComparison.Ordinal);
    }
}
