using System.Text;
using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

public sealed class BuildTests
{
    private static readonly Action<SandboxOptions> Generous = o =>
    {
        o.UserLimit = RateLimitSetting.Parse("100000/60s");
        o.OrganizationLimit = RateLimitSetting.Parse("100000/60s");
    };

    [Fact]
    public async Task Create_KeepsEverythingTheRequestCarried()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var build = await sandbox.Client.CreateBuildAsync("web", new JsonObject
        {
            ["message"] = "Deploy 🚀",
            ["env"] = new JsonObject { ["STAGE"] = "prod" },
            ["meta_data"] = new JsonObject { ["kiteflow-delivery"] = "batch-7", ["count"] = 3 },
            ["author"] = new JsonObject { ["name"] = "Keith Pitt", ["email"] = "me@keithpitt.com" },
            ["pull_request_id"] = 42,
            ["pull_request_base_branch"] = "main",
            ["pull_request_repository"] = "git://github.com/acme-inc/web.git",
        });

        var id = build["id"]!.GetValue<string>();
        Assert.Equal("scheduled", build["state"]!.GetValue<string>());
        Assert.Equal("api", build["source"]!.GetValue<string>());
        Assert.Equal("Deploy 🚀", build["message"]!.GetValue<string>());
        Assert.Equal("prod", build["env"]!["STAGE"]!.GetValue<string>());
        Assert.Equal("batch-7", build["meta_data"]!["kiteflow-delivery"]!.GetValue<string>());
        Assert.Equal("3", build["meta_data"]!["count"]!.GetValue<string>());
        Assert.Equal("Keith Pitt", build["author"]!["name"]!.GetValue<string>());
        Assert.Equal("42", build["pull_request"]!["id"]!.GetValue<string>());
        Assert.Equal("admin@sandbox.example", build["creator"]!["email"]!.GetValue<string>());
        Assert.Equal($"Build---{id}", Encoding.UTF8.GetString(Convert.FromBase64String(build["graphql_id"]!.GetValue<string>())));
        Assert.Equal("https://buildkite.com/acme/web/builds/1", build["web_url"]!.GetValue<string>());
        Assert.Equal(new Uri(sandbox.Server.BaseAddress, "v2/organizations/acme/pipelines/web/builds/1").ToString(), build["url"]!.GetValue<string>());
        Assert.Equal(4, build["jobs"]!.AsArray().Count);
    }

    [Fact]
    public async Task Create_NumbersIncreasePerPipeline()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var numbers = new List<int>();
        foreach (var pipeline in new[] { "web", "web", "api", "web", "api" })
        {
            numbers.Add((await sandbox.Client.CreateBuildAsync(pipeline))["number"]!.GetValue<int>());
        }

        Assert.Equal([1, 2, 1, 3, 2], numbers);
    }

    [Fact]
    public async Task Create_BatchedArrayBody_IsRefusedAsMissingFields()
    {
        await using var sandbox = await TestSandbox.StartAsync();

        var (status, body, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines/web/builds",
            new JsonArray(new JsonObject { ["commit"] = "HEAD", ["branch"] = "main" }));

        Assert.Equal(422, status);
        Assert.Equal("Validation Failed", body!["message"]!.GetValue<string>());
        Assert.Equal(["commit", "branch"], body["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("scheduled", 200)]
    [InlineData("running", 200)]
    [InlineData("failing", 200)]
    [InlineData("passed", 422)]
    [InlineData("failed", 422)]
    [InlineData("canceled", 422)]
    public async Task Cancel_OnlyFromScheduledRunningOrFailing(string state, int expected)
    {
        await using var sandbox = await TestSandbox.StartAsync();
        var (number, _) = await World.BuildAsync(sandbox.Client, state: state);

        var (status, body, _) = await sandbox.Client.SendAsync(HttpMethod.Put, $"/v2/organizations/acme/pipelines/web/builds/{number}/cancel");

        Assert.Equal(expected, status);
        if (expected == 200)
        {
            Assert.Equal("canceled", body!["state"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Rebuild_MakesANewBuildFromTheOld()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        await sandbox.Client.CreateBuildAsync("web", new JsonObject { ["meta_data"] = new JsonObject { ["k"] = "v" } });
        await sandbox.Client.SetBuildStateAsync("web", 1, "failed");

        var (status, rebuilt, _) = await sandbox.Client.SendAsync(HttpMethod.Put, "/v2/organizations/acme/pipelines/web/builds/1/rebuild");
        var original = await sandbox.Client.GetJsonAsync("/v2/organizations/acme/pipelines/web/builds/1");

        Assert.Equal(200, status);
        Assert.Equal(2, rebuilt!["number"]!.GetValue<int>());
        Assert.Equal("scheduled", rebuilt["state"]!.GetValue<string>());
        Assert.Equal(1, rebuilt["rebuilt_from"]!["number"]!.GetValue<int>());
        Assert.Equal("v", rebuilt["meta_data"]!["k"]!.GetValue<string>());
        Assert.Equal("failed", original["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_FiltersByBranchStateCommitAndMetaData_OnBothLists()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        await sandbox.Client.CreateBuildAsync("web", new JsonObject { ["branch"] = "main", ["commit"] = "aaa", ["meta_data"] = new JsonObject { ["key"] = "one" } });
        await sandbox.Client.CreateBuildAsync("web", new JsonObject { ["branch"] = "dev", ["commit"] = "bbb", ["meta_data"] = new JsonObject { ["key"] = "two" } });
        await sandbox.Client.CreateBuildAsync("api", new JsonObject { ["branch"] = "main", ["commit"] = "ccc", ["meta_data"] = new JsonObject { ["key"] = "two", ["other"] = "x" } });
        await sandbox.Client.SetBuildStateAsync("web", 2, "passed");

        async Task<List<string>> Commits(string path) =>
            [.. (await sandbox.Client.GetJsonAsync(path)).AsArray().Select(b => b!["commit"]!.GetValue<string>())];

        Assert.Equal(["bbb", "aaa"], await Commits("/v2/organizations/acme/pipelines/web/builds"));
        Assert.Equal(["ccc", "bbb", "aaa"], await Commits("/v2/organizations/acme/builds"));
        Assert.Equal(["ccc", "aaa"], await Commits("/v2/organizations/acme/builds?branch=main"));
        Assert.Equal(["bbb"], await Commits("/v2/organizations/acme/pipelines/web/builds?state=passed"));
        Assert.Equal(["ccc", "aaa"], await Commits("/v2/organizations/acme/builds?state[]=scheduled"));
        Assert.Equal(["bbb"], await Commits("/v2/organizations/acme/builds?commit=bbb"));
        Assert.Equal(["bbb"], await Commits("/v2/organizations/acme/pipelines/web/builds?meta_data[key]=two"));
        Assert.Equal(["ccc", "bbb"], await Commits("/v2/organizations/acme/builds?meta_data[key]=two"));
        Assert.Equal(["ccc"], await Commits("/v2/organizations/acme/builds?meta_data[key]=two&meta_data[other]=x"));
        Assert.Empty(await Commits("/v2/organizations/acme/builds?meta_data[key]=three"));
    }

    [Fact]
    public async Task List_PaginatesWithLinks()
    {
        await using var sandbox = await TestSandbox.StartAsync(Generous);
        for (var i = 0; i < 105; i++)
        {
            await sandbox.Client.CreateBuildAsync();
        }

        var (_, defaultPage, _) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme/pipelines/web/builds?exclude_jobs=true");
        var (_, capped, _) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme/pipelines/web/builds?per_page=500");
        var (_, last, response) = await sandbox.Client.SendAsync(HttpMethod.Get, "/v2/organizations/acme/pipelines/web/builds?branch=main&page=4");

        Assert.Equal(30, defaultPage!.AsArray().Count);
        Assert.Equal(100, capped!.AsArray().Count);
        Assert.Equal(15, last!.AsArray().Count);
        Assert.Equal(1, last[14]!["number"]!.GetValue<int>());
        var link = response.Headers.GetValues("Link").Single();
        var builds = new Uri(sandbox.Server.BaseAddress, "v2/organizations/acme/pipelines/web/builds");
        Assert.Equal($"<{builds}?branch=main&page=1>; rel=\"first\", <{builds}?branch=main&page=3>; rel=\"prev\"", link);
    }

    [Fact]
    public async Task Annotation_RendersMarkdownAndAppends()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        var (number, _) = await World.BuildAsync(sandbox.Client);
        var path = $"/v2/organizations/acme/pipelines/web/builds/{number}/annotations";

        var (created, first, _) = await sandbox.Client.SendAsync(HttpMethod.Post, path, new JsonObject { ["body"] = "**bold**", ["context"] = "c", ["style"] = "warning" });
        await sandbox.Client.SendAsync(HttpMethod.Post, path, new JsonObject { ["body"] = " and more", ["context"] = "c", ["append"] = true });
        var (invalid, error, _) = await sandbox.Client.SendAsync(HttpMethod.Post, path, new JsonObject { ["body"] = "x", ["style"] = "loud", ["priority"] = 11 });
        var listed = await sandbox.Client.GetJsonAsync(path);

        Assert.Equal(201, created);
        Assert.Equal("<p><strong>bold</strong></p>\n", first!["body_html"]!.GetValue<string>());
        Assert.Equal("<p><strong>bold</strong> and more</p>\n", listed[0]!["body_html"]!.GetValue<string>());
        Assert.Equal(422, invalid);
        Assert.Equal(["style", "priority"], error!["errors"]!.AsArray().Select(e => e!["field"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Pipeline_CreateDerivesTheSlugAndRefusesADuplicateName()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        var body = new JsonObject { ["name"] = "  My Pipeline: X!! ", ["repository"] = "git@github.com:acme-inc/x.git", ["configuration"] = "steps:\n  - command: make" };

        var (created, pipeline, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines", body);
        var (again, error, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines", body);
        var (renamed, updated, _) = await sandbox.Client.SendAsync(HttpMethod.Patch, "/v2/organizations/acme/pipelines/my-pipeline-x", new JsonObject { ["name"] = "Renamed One" });

        Assert.Equal(201, created);
        Assert.Equal("my-pipeline-x", pipeline!["slug"]!.GetValue<string>());
        Assert.Equal(422, again);
        Assert.Equal("name", error!["errors"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(200, renamed);
        Assert.Equal("renamed-one", updated!["slug"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pipeline_ClusterIdRequiredOnlyWhereTheOrganizationSaysSo()
    {
        await using var sandbox = await TestSandbox.StartAsync();
        JsonObject Body(string name) => new() { ["name"] = name, ["repository"] = "git@github.com:acme-inc/x.git", ["configuration"] = "steps: []" };

        var (older, _, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines", Body("Old style"));
        await World.SendOkAsync(sandbox.Client, HttpMethod.Patch, "/_sandbox/organizations/acme", new JsonObject { ["requiresClusterId"] = true });
        var (newer, error, _) = await sandbox.Client.SendAsync(HttpMethod.Post, "/v2/organizations/acme/pipelines", Body("New style"));

        Assert.Equal(201, older);
        Assert.Equal(422, newer);
        Assert.Equal("cluster_id", error!["errors"]![0]!["field"]!.GetValue<string>());
    }
}
