using Kiteflow.Core.Catalog;

namespace Kiteflow.Core.Tests.Catalog;

public sealed class EndpointCatalogTests
{
    private const int Calls = 10_000;

    private static readonly EndpointCatalog Catalog = EndpointCatalog.Buildkite;

    [Theory]
    [InlineData("builds.create", "POST", "/organizations/{org}/pipelines/{pipeline}/builds", "write_builds")]
    [InlineData("builds.cancel", "PUT", "/organizations/{org}/pipelines/{pipeline}/builds/{number}/cancel", "write_builds")]
    [InlineData("builds.rebuild", "PUT", "/organizations/{org}/pipelines/{pipeline}/builds/{number}/rebuild", "write_builds")]
    [InlineData("builds.retry_failed_jobs", "PUT", "/organizations/{org}/pipelines/{pipeline}/builds/{number}/retry_failed_jobs", "write_builds")]
    [InlineData("annotations.create", "POST", "/organizations/{org}/pipelines/{pipeline}/builds/{number}/annotations", "write_builds")]
    [InlineData("annotations.delete", "DELETE", "/organizations/{org}/pipelines/{pipeline}/builds/{number}/annotations/{uuid}", "write_builds")]
    [InlineData("pipelines.create", "POST", "/organizations/{org}/pipelines", "write_pipelines")]
    [InlineData("pipelines.update", "PATCH", "/organizations/{org}/pipelines/{pipeline}", "write_pipelines")]
    [InlineData("pipelines.delete", "DELETE", "/organizations/{org}/pipelines/{pipeline}", "write_pipelines")]
    [InlineData("pipelines.archive", "POST", "/organizations/{org}/pipelines/{pipeline}/archive", "write_pipelines")]
    [InlineData("pipelines.unarchive", "POST", "/organizations/{org}/pipelines/{pipeline}/unarchive", "write_pipelines")]
    [InlineData("agents.stop", "PUT", "/organizations/{org}/agents/{id}/stop", "write_agents")]
    [InlineData("agents.pause", "PUT", "/organizations/{org}/agents/{id}/pause", "write_agents")]
    [InlineData("agents.resume", "PUT", "/organizations/{org}/agents/{id}/resume", "write_agents")]
    [InlineData("pipeline_schedules.create", "POST", "/organizations/{org}/pipelines/{pipeline}/schedules", "write_pipelines")]
    [InlineData("pipeline_schedules.update", "PUT", "/organizations/{org}/pipelines/{pipeline}/schedules/{id}", "write_pipelines")]
    [InlineData("pipeline_schedules.delete", "DELETE", "/organizations/{org}/pipelines/{pipeline}/schedules/{id}", "write_pipelines")]
    public void Find_RequiredEndpoint_HasItsMethodPathAndScope(string id, string method, string path, string scope)
    {
        var endpoint = Catalog.Find(id);

        Assert.NotNull(endpoint);
        Assert.Equal(id, endpoint.Id);
        Assert.Equal(method, endpoint.Method);
        Assert.Equal(path, endpoint.PathTemplate);
        Assert.Equal(scope, endpoint.Scope);
        Assert.True(endpoint.OneObjectPerCall);
        Assert.False(string.IsNullOrWhiteSpace(endpoint.Summary));
    }

    [Theory]
    [InlineData("annotations.create_on_build", "annotations.create")]
    [InlineData("annotations.delete_on_build", "annotations.delete")]
    [InlineData("pipelines.create_yaml", "pipelines.create")]
    [InlineData("pipelines.create_visual_steps", "pipelines.create")]
    [InlineData("queues.create_hosted", "queues.create")]
    [InlineData("queues.create_self_hosted", "queues.create")]
    public void Find_DocsExampleId_IsTheCatalogEndpoint(string alias, string id)
    {
        Assert.Same(Catalog.Find(id), Catalog.Find(alias));
    }

    [Theory]
    [InlineData("builds.nope")]
    [InlineData("Builds.Create")]
    [InlineData("")]
    public void Find_UnknownId_ReturnsNull(string id)
    {
        Assert.Null(Catalog.Find(id));
    }

    [Fact]
    public void Endpoints_IdsAndMethods_AreWellFormed()
    {
        Assert.Equal(Catalog.Endpoints.Count, Catalog.Endpoints.Select(endpoint => endpoint.Id).Distinct().Count());
        foreach (var endpoint in Catalog.Endpoints)
        {
            Assert.Matches("^[a-z_]+\\.[a-z_]+$", endpoint.Id);
            Assert.All(endpoint.Methods, method => Assert.Contains(method, new[] { "GET", "POST", "PUT", "PATCH", "DELETE" }));
            Assert.Equal(endpoint.Methods[0], endpoint.Method);
            Assert.StartsWith("/", endpoint.PathTemplate, StringComparison.Ordinal);
            Assert.Same(endpoint, Catalog.Find(endpoint.Id));
        }
    }

    [Fact]
    public void Endpoints_WriteEndpoints_NeedAWriteScope()
    {
        var writes = Catalog.Endpoints.Where(endpoint => endpoint.Method != "GET" && endpoint.Id != "access_token.revoke");

        Assert.All(writes, endpoint => Assert.StartsWith("write_", endpoint.Scope, StringComparison.Ordinal));
    }

    [Fact]
    public void Match_BuildsPathWithMacroPipeline_IsCreateBuild()
    {
        var endpoint = Catalog.Match("POST", ["organizations", "acme", "pipelines", null, "builds"]);

        Assert.Equal("builds.create", endpoint?.Id);
    }

    [Fact]
    public void Match_MacroSegmentWhereALiteralIsExpected_FindsNothing()
    {
        // The last segment must be "cancel", "rebuild" or "retry_failed_jobs": a value from a record cannot be one.
        var endpoint = Catalog.Match("PUT", ["organizations", "acme", "pipelines", "app", "builds", "7", null]);

        Assert.Null(endpoint);
    }

    [Fact]
    public void Match_LiteralSegmentBeatsAPlaceholder_TeamsEnable()
    {
        Assert.Equal("teams.enable", Catalog.Match("POST", ["organizations", "acme", "teams", "enable"])?.Id);
        Assert.Equal("teams.delete", Catalog.Match("DELETE", ["organizations", "acme", "teams", "enable"])?.Id);
        Assert.Null(Catalog.Match("POST", ["organizations", "acme", "teams", null]));
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("patch")]
    public void Match_ClusterUpdate_AcceptsPutAndPatchInAnyCase(string method)
    {
        Assert.Equal("clusters.update", Catalog.Match(method, ["organizations", "acme", "clusters", null])?.Id);
        Assert.Equal("queues.update", Catalog.Match(method, ["organizations", "acme", "clusters", null, "queues", null])?.Id);
        Assert.Equal("pipeline_schedules.update", Catalog.Match(method, ["organizations", "acme", "pipelines", "app", "schedules", null])?.Id);
    }

    [Fact]
    public void Match_PipelineUpdateWithPut_FindsNothing()
    {
        Assert.Null(Catalog.Match("PUT", ["organizations", "acme", "pipelines", "app"]));
    }

    [Theory]
    [InlineData("retry", "jobs.retry")]
    [InlineData("unblock", "jobs.unblock")]
    [InlineData("reprioritize", "jobs.reprioritize")]
    public void Match_BuildScopedJobRoute_IsTheJobEndpoint(string action, string id)
    {
        var organizationScoped = Catalog.Match("PUT", ["organizations", "acme", "jobs", null, action]);
        var buildScoped = Catalog.Match("PUT", ["organizations", "acme", "pipelines", "app", "builds", "7", "jobs", null, action]);

        Assert.Equal(id, organizationScoped?.Id);
        Assert.Same(organizationScoped, buildScoped);
    }

    [Fact]
    public void Match_TrailingSlash_IsIgnored()
    {
        Assert.Equal("team_members.create", Catalog.Match("POST", ["organizations", "acme", "teams", null, "members", ""])?.Id);
    }

    [Theory]
    [InlineData("POST", new[] { "organizations", "acme", "pipeline", "app", "builds" })]
    [InlineData("POST", new[] { "organizations", "acme", "pipelines", "", "builds" })]
    [InlineData("POST", new[] { "v2", "organizations", "acme", "pipelines", "app", "builds" })]
    [InlineData("GET", new[] { "organizations", "acme", "pipelines", "app", "builds", "7", "cancel" })]
    [InlineData("POST", new string[0])]
    public void Match_UnknownRequest_ReturnsNull(string method, string[] segments)
    {
        Assert.Null(Catalog.Match(method, segments));
    }

    [Fact]
    public void Match_LiteralsAreComparedExactly()
    {
        Assert.Null(Catalog.Match("POST", ["Organizations", "acme", "pipelines", "app", "builds"]));
    }

    [Fact]
    public void Match_KnownRequest_AllocatesNothing()
    {
        string?[] segments = ["organizations", "acme", "pipelines", null, "builds", "7", "annotations"];
        for (var i = 0; i < 100; i++)
        {
            Catalog.Match("POST", segments);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++)
        {
            Catalog.Match("POST", segments);
        }

        // Any allocation per call is at least 24 bytes; under one byte per call on average leaves room only for a
        // one-off allocation by the runtime while the loop runs (seen once under a parallel test run).
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < Calls, $"{Calls:N0} calls allocated {allocated:N0} bytes.");
    }

    [Fact]
    public void MatchPath_PathWithAnotherMethod_ListsTheEndpointsThere()
    {
        var endpoints = Catalog.MatchPath(["organizations", "acme", "pipelines", null]);

        Assert.Equal(["pipelines.update", "pipelines.delete"], endpoints.Select(endpoint => endpoint.Id));
    }
}
