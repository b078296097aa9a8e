using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.Tests;

/// <summary>
/// One test per file of the Buildkite facts folder: the documented request, sent to the sandbox, gets the
/// documented status and a body of the documented shape; and each documented error is reproduced by a request
/// that causes it. A new file in the folder fails <see cref="Example_IsCovered"/> until it has a scenario here.
/// </summary>
public sealed class FidelityTests
{
    private const string Org = "/v2/organizations/acme";

    public static TheoryData<string> Files => [.. Fixtures.ExampleFiles()];

    [Theory]
    [MemberData(nameof(Files))]
    public void Example_IsCovered(string file) =>
        Assert.True(Scenarios.ContainsKey(file), $"{file} has no fidelity scenario: add one to {nameof(FidelityTests)}.{nameof(Scenarios)}.");

    [Fact]
    public void Scenarios_EachNameAnExistingFile() =>
        Assert.Empty(Scenarios.Keys.Except(Fixtures.ExampleFiles()));

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Example_DocumentedRequest_GetsDocumentedStatusAndShape(string file)
    {
        var doc = Fixtures.Load(file);
        var scenario = Scenarios[file];
        await using var sandbox = await TestSandbox.StartAsync(scenario.Configure);

        if (scenario.Custom is not null)
        {
            await scenario.Custom(sandbox, doc);
            return;
        }

        var arranged = await scenario.Arrange!(sandbox);
        var body = doc["requestBody"]?.DeepClone();
        foreach (var (key, value) in arranged.Overrides ?? [])
        {
            body![key] = value?.DeepClone();
        }

        var (status, answer, _) = await sandbox.Client.SendAsync(
            new HttpMethod(doc["method"]!.GetValue<string>()), Path(doc, arranged.Placeholders), body);

        Assert.True(doc["successStatus"]!.GetValue<int>() == status, $"{file}: expected {doc["successStatus"]}, got {status}: {answer?.ToJsonString()}");
        if (doc["responseBody"] is { } documented)
        {
            Shape.AssertMatches(documented, answer, file);
        }
        else if (status == 204)
        {
            Assert.Null(answer);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Example_DocumentedErrors_AreReproduced(string file)
    {
        var doc = Fixtures.Load(file);
        var scenario = Scenarios[file];
        var documented = doc["errors"]!.AsArray();
        Assert.True(documented.Count == scenario.Errors.Count, $"{file}: documents {documented.Count} errors, the scenario reproduces {scenario.Errors.Count}.");

        for (var i = 0; i < documented.Count; i++)
        {
            await using var sandbox = await TestSandbox.StartAsync(scenario.ErrorConfigure ?? scenario.Configure);
            var request = await scenario.Errors[i](sandbox, doc);
            using var client = request.Token is null ? null : sandbox.ClientFor(request.Token);
            var (status, answer, _) = await (client ?? sandbox.Client).SendAsync(request.Method, request.Path, request.Body);
            AssertError(documented[i]!.AsObject(), status, answer, $"{file} errors[{i}]");
            if (request.Verify is not null)
            {
                await request.Verify(sandbox);
            }
        }
    }

    private static void AssertError(JsonObject documented, int status, JsonNode? answer, string context)
    {
        Assert.True(documented["status"]!.GetValue<int>() == status, $"{context}: expected {documented["status"]}, got {status}: {answer?.ToJsonString()}");
        var message = Assert.IsType<JsonObject>(answer)["message"]?.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(message), $"{context}: no message in {answer.ToJsonString()}");
        if (documented["body"] is not JsonObject body)
        {
            return; // Documented in prose only: the status and a JSON message are what a client can rely on.
        }

        var expected = body["message"]!.GetValue<string>();
        if (expected == "Validation failed: Reason for failure")
        {
            Assert.StartsWith("Validation failed: ", message, StringComparison.Ordinal);
        }
        else if (!expected.StartsWith("Reason", StringComparison.Ordinal))
        {
            // Exact, but for the numbers in it (the seconds to wait, say).
            var pattern = "^" + System.Text.RegularExpressions.Regex.Replace(System.Text.RegularExpressions.Regex.Escape(expected), @"\d+", @"\d+") + "$";
            Assert.Matches(pattern, message);
        }

        if (body["errors"] is JsonArray errors)
        {
            var got = Assert.IsType<JsonArray>(answer["errors"]);
            Assert.NotEmpty(got);
            Assert.All(got, e =>
            {
                Assert.IsType<string>(e!["field"]!.GetValue<string>());
                Assert.IsType<string>(e["code"]!.GetValue<string>());
            });
            if (errors[0] is JsonObject item)
            {
                Assert.Contains(got, e => JsonNode.DeepEquals(e, item));
            }
        }

        foreach (var (key, value) in body)
        {
            if (key is not ("message" or "errors"))
            {
                Shape.AssertMatches(value, answer[key], $"{context}.{key}");
            }
        }
    }

    private static string Path(JsonObject doc, IReadOnlyDictionary<string, string> placeholders)
    {
        var path = "/v2" + doc["path"]!.GetValue<string>();
        foreach (var (key, value) in placeholders)
        {
            path = path.Replace("{" + key + "}", value, StringComparison.Ordinal);
        }

        return path.Replace("{org}", "acme", StringComparison.Ordinal);
    }

    internal sealed record Arranged(IReadOnlyDictionary<string, string> Placeholders, JsonObject? Overrides = null);

    internal sealed record ErrorRequest(HttpMethod Method, string Path, JsonNode? Body, string? Token = null, Func<TestSandbox, Task>? Verify = null);

    internal sealed record Scenario(
        Func<TestSandbox, Task<Arranged>>? Arrange,
        IReadOnlyList<Func<TestSandbox, JsonObject, Task<ErrorRequest>>> Errors,
        Func<TestSandbox, JsonObject, Task>? Custom = null,
        Action<SandboxOptions>? Configure = null,
        Action<SandboxOptions>? ErrorConfigure = null);

    private static Func<TestSandbox, Task<Arranged>> With(params (string Key, string Value)[] placeholders) =>
        _ => Task.FromResult(new Arranged(placeholders.ToDictionary(p => p.Key, p => p.Value)));

    private static Arranged Placed(params (string Key, string Value)[] placeholders) => new(placeholders.ToDictionary(p => p.Key, p => p.Value));

    /// <summary>The documented request (method, path, body) with the given placeholders and body.</summary>
    private static ErrorRequest Documented(JsonObject doc, JsonNode? body, params (string Key, string Value)[] placeholders) =>
        new(new HttpMethod(doc["method"]!.GetValue<string>()), Path(doc, placeholders.ToDictionary(p => p.Key, p => p.Value)), body);

    private static JsonNode? RequestBody(JsonObject doc) => doc["requestBody"]?.DeepClone();

    private static JsonObject Merge(JsonObject doc, JsonObject changes)
    {
        var body = doc["requestBody"]?.DeepClone().AsObject() ?? [];
        foreach (var (key, value) in changes)
        {
            body[key] = value?.DeepClone();
        }

        return body;
    }

    private static readonly string UnknownId = Guid.Empty.ToString();

    internal static readonly Dictionary<string, Scenario> Scenarios = new()
    {
        ["access_token_get.json"] = new(With(), []),
        ["access_token_revoke.json"] = new(With(), []),

        ["agents_pause.json"] = new(
            async s => Placed(("id", await World.AgentIdAsync(s.Client, "agent-1"))),
            [
                (s, d) => Task.FromResult(Documented(d, RequestBody(d), ("id", UnknownId))),
                async (s, d) =>
                {
                    var id = await World.AgentIdAsync(s.Client, "agent-2");
                    await World.SendOkAsync(s.Client, HttpMethod.Put, $"{Org}/agents/{id}/pause", new JsonObject());
                    return Documented(d, RequestBody(d), ("id", id));
                },
                async (s, d) => Documented(d, RequestBody(d), ("id", await World.AgentIdAsync(s.Client, "agent-old"))),
            ]),
        ["agents_resume.json"] = new(
            async s =>
            {
                var id = await World.AgentIdAsync(s.Client, "agent-1");
                await World.SendOkAsync(s.Client, HttpMethod.Put, $"{Org}/agents/{id}/pause", new JsonObject());
                return Placed(("id", id));
            },
            [
                (s, d) => Task.FromResult(Documented(d, RequestBody(d), ("id", UnknownId))),
                async (s, d) => Documented(d, RequestBody(d), ("id", await World.AgentIdAsync(s.Client, "agent-2"))),
            ]),
        ["agents_stop.json"] = new(
            async s => Placed(("id", await World.AgentIdAsync(s.Client, "agent-1"))),
            [async (s, d) => Documented(d, RequestBody(d), ("id", await World.AgentIdAsync(s.Client, "agent-old")))]),

        ["annotations_create_on_build.json"] = new(
            async s => Placed(("pipeline", "web"), ("number", (await World.BuildAsync(s.Client)).Number.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            []),
        ["annotations_create_on_job.json"] = new(
            async s => Placed(("job", World.JobId((await World.BuildAsync(s.Client)).Build))),
            []),
        ["annotations_delete_on_build.json"] = new(
            async s =>
            {
                var (number, _) = await World.BuildAsync(s.Client);
                return Placed(("pipeline", "web"), ("number", N(number)), ("uuid", await World.AnnotationAsync(s.Client, number)));
            },
            []),
        ["annotations_delete_on_job.json"] = new(
            async s =>
            {
                var (number, build) = await World.BuildAsync(s.Client);
                var job = World.JobId(build);
                return Placed(("job", job), ("uuid", await World.AnnotationAsync(s.Client, number, job)));
            },
            []),

        ["builds_cancel.json"] = new(
            async s => Placed(("pipeline", "web"), ("number", N((await World.BuildAsync(s.Client)).Number))),
            [async (s, d) => Documented(d, null, ("pipeline", "web"), ("number", N((await World.BuildAsync(s.Client, state: "passed")).Number)))]),
        ["builds_create.json"] = new(
            With(("pipeline", "web")),
            [
                (s, d) => Task.FromResult(Documented(d, new JsonObject { ["message"] = "no commit, no branch" }, ("pipeline", "web"))),
                async (s, d) =>
                {
                    await World.SendOkAsync(s.Client, HttpMethod.Post, $"{Org}/pipelines/api/archive");
                    return Documented(d, RequestBody(d), ("pipeline", "api")) with
                    {
                        Verify = async s2 => Assert.Empty((await s2.Client.GetJsonAsync($"{Org}/pipelines/api/builds")).AsArray()),
                    };
                },
            ]),
        ["builds_rebuild.json"] = new(
            async s => Placed(("pipeline", "web"), ("number", N((await World.BuildAsync(s.Client, state: "failed")).Number))),
            [
                async (s, d) =>
                {
                    var (number, _) = await World.BuildAsync(s.Client, state: "passed");
                    await World.SendOkAsync(s.Client, HttpMethod.Patch, $"{Org}/pipelines/web", new JsonObject { ["allow_rebuilds"] = false });
                    return Documented(d, null, ("pipeline", "web"), ("number", N(number)));
                },
            ]),
        ["builds_retry_failed_jobs.json"] = new(
            async s => Placed(("pipeline", "web"), ("number", N((await World.BuildAsync(s.Client, state: "failed")).Number))),
            [async (s, d) => Documented(d, new JsonObject { ["states"] = "invalid" }, ("pipeline", "web"), ("number", N((await World.BuildAsync(s.Client, state: "failed")).Number)))]),

        ["clusters_create.json"] = new(With(), [(s, d) => Task.FromResult(Documented(d, new JsonObject { ["description"] = "no name" }))]),
        ["clusters_delete.json"] = new(
            async s => Placed(("id", await World.NewClusterAsync(s.Client))),
            [async (s, d) => Documented(d, null, ("id", await World.ClusterIdAsync(s.Client, "Default cluster")))]),
        ["clusters_update.json"] = new(
            async s => Placed(("id", await World.ClusterIdAsync(s.Client, "Hosted cluster"))),
            [
                async (s, d) => Documented(d, Merge(d, new JsonObject { ["hosted_git_mirror_enabled"] = "yes" }), ("id", await World.ClusterIdAsync(s.Client, "Hosted cluster"))),
                async (s, d) =>
                {
                    // The hosted-agent service failing: injected as a fault, and nothing changes (safe to retry).
                    s.Server.SetFaults([new SandboxFaultRule { Method = "PUT", Path = "/v2/organizations/*/clusters/*", Status = 503 }]);
                    var id = await World.ClusterIdAsync(s.Client, "Hosted cluster");
                    return Documented(d, Merge(d, new JsonObject { ["hosted_git_mirror_enabled"] = true }), ("id", id)) with
                    {
                        Verify = async s2 =>
                        {
                            var cluster = await s2.Client.GetJsonAsync($"{Org}/clusters/{id}");
                            Assert.Equal("Hosted cluster", cluster["name"]!.GetValue<string>());
                            Assert.False(cluster["hosted_git_mirror_enabled"]!.GetValue<bool>());
                        },
                    };
                },
            ]),

        ["jobs_reprioritize.json"] = new(
            async s => Placed(("job", World.JobId((await World.BuildAsync(s.Client)).Build))),
            [async (s, d) => Documented(d, new JsonObject { ["priority"] = "high" }, ("job", World.JobId((await World.BuildAsync(s.Client)).Build)))]),
        ["jobs_retry.json"] = new(
            async s => Placed(("job", World.JobId((await World.BuildAsync(s.Client, state: "failed")).Build))),
            [
                async (s, d) => Documented(d, null, ("job", World.JobId((await World.BuildAsync(s.Client)).Build))),
                async (s, d) =>
                {
                    var (number, build) = await World.BuildAsync(s.Client);
                    await World.SendOkAsync(s.Client, HttpMethod.Put, $"{Org}/pipelines/web/builds/{number}/cancel");
                    return Documented(d, null, ("job", World.JobId(build)));
                },
                async (s, d) =>
                {
                    var (parent, _) = await World.BuildAsync(s.Client);
                    await World.SendOkAsync(s.Client, HttpMethod.Put, $"{Org}/pipelines/web/builds/{parent}/cancel");
                    var (child, build) = await World.BuildAsync(s.Client, "api");
                    var (status, _, _) = await s.Client.SetBuildStateAsync("api", child, "failed",
                        new JsonObject { ["triggeredFrom"] = new JsonObject { ["pipeline"] = "web", ["number"] = parent, ["async"] = false } });
                    Assert.Equal(204, status);
                    return Documented(d, null, ("job", World.JobId(build)));
                },
            ]),
        ["jobs_unblock.json"] = new(
            async s => Placed(("job", World.JobId((await World.BuildAsync(s.Client)).Build, "manual"))),
            [
                async (s, d) => Documented(d, RequestBody(d), ("job", World.JobId((await World.BuildAsync(s.Client)).Build))),
                async (s, d) => Documented(d, Merge(d, new JsonObject { ["unblocker"] = "not-a-user" }), ("job", World.JobId((await World.BuildAsync(s.Client)).Build, "manual"))),
                async (s, d) =>
                {
                    var (number, build) = await World.BuildAsync(s.Client);
                    await World.SendOkAsync(s.Client, HttpMethod.Put, $"{Org}/pipelines/web/builds/{number}/cancel");
                    return Documented(d, RequestBody(d), ("job", World.JobId(build, "manual")));
                },
            ]),

        ["observed_error_responses.json"] = new(
            null,
            [
                (s, d) => Task.FromResult(new ErrorRequest(HttpMethod.Get, $"{Org}/pipelines/web/builds", null, Token: "bkua_not_a_real_token")),
                (s, d) =>
                {
                    s.Server.AddToken(new SandboxToken("bkua_no_read_builds", ["write_builds"]));
                    return Task.FromResult(new ErrorRequest(HttpMethod.Get, $"{Org}/pipelines/web/builds", null, Token: "bkua_no_read_builds"));
                },
                async (s, d) =>
                {
                    // Morgan may read "api" but not build on it: the scopes are fine, the permission is not.
                    var (number, _) = await World.BuildAsync(s.Client, "api", "passed");
                    return new ErrorRequest(HttpMethod.Put, $"{Org}/pipelines/api/builds/{number}/rebuild", null, Token: World.MemberToken);
                },
                (s, d) => Task.FromResult(new ErrorRequest(HttpMethod.Post, $"{Org}/pipelines/docs/builds",
                    new JsonObject { ["commit"] = "HEAD", ["branch"] = "main" }, Token: World.MemberToken)),
                async (s, d) =>
                {
                    await World.SendOkAsync(s.Client, HttpMethod.Patch, "/_sandbox/organizations/acme", new JsonObject { ["requiresClusterId"] = true });
                    return new ErrorRequest(HttpMethod.Post, $"{Org}/pipelines",
                        new JsonObject { ["name"] = "No cluster", ["repository"] = "git@github.com:acme-inc/x.git", ["configuration"] = "steps: []" });
                },
            ],
            Custom: (s, d) => Task.CompletedTask),
        ["organization_rate_limit_get.json"] = new(With(), []),

        ["pipeline_schedules_create.json"] = new(With(("pipeline", "web")), [(s, d) => Task.FromResult(Documented(d, Merge(d, new JsonObject { ["cronline"] = "" }), ("pipeline", "web")))]),
        ["pipeline_schedules_delete.json"] = new(async s => Placed(("pipeline", "web"), ("id", await World.ScheduleAsync(s.Client))), []),
        ["pipeline_schedules_update.json"] = new(
            async s => Placed(("pipeline", "web"), ("id", await World.ScheduleAsync(s.Client))),
            [async (s, d) => Documented(d, new JsonObject { ["cronline"] = "every tuesday" }, ("pipeline", "web"), ("id", await World.ScheduleAsync(s.Client)))]),

        ["pipelines_add_webhook.json"] = new(
            With(("pipeline", "web")),
            [
                (s, d) => Task.FromResult(Documented(d, null, ("pipeline", "web")) with { Token = World.MemberToken }),
                (s, d) => Task.FromResult(Documented(d, null, ("pipeline", "docs"))),
                async (s, d) =>
                {
                    await World.SendOkAsync(s.Client, HttpMethod.Post, $"{Org}/pipelines/web/webhook");
                    return Documented(d, null, ("pipeline", "web"));
                },
            ]),
        ["pipelines_archive.json"] = new(
            With(("pipeline", "web")),
            [
                (s, d) => Task.FromResult(Documented(d, null, ("pipeline", "web")) with { Token = World.MemberToken }),
                async (s, d) =>
                {
                    await World.SendOkAsync(s.Client, HttpMethod.Post, $"{Org}/pipelines/api/archive");
                    return Documented(d, null, ("pipeline", "api"));
                },
            ]),
        ["pipelines_create_visual_steps.json"] = new(
            async s => new Arranged(new Dictionary<string, string>(), new JsonObject { ["cluster_id"] = await World.ClusterIdAsync(s.Client, "Default cluster") }),
            [(s, d) => Task.FromResult(Documented(d, new JsonObject { ["steps"] = new JsonArray() }))]),
        ["pipelines_create_yaml.json"] = new(
            async s => new Arranged(new Dictionary<string, string>(), new JsonObject { ["cluster_id"] = await World.ClusterIdAsync(s.Client, "Default cluster") }),
            [
                (s, d) => Task.FromResult(Documented(d, Merge(d, new JsonObject { ["name"] = "web", ["cluster_id"] = null }))),
                (s, d) => Task.FromResult(Documented(d, new JsonObject { ["name"] = "Unconfigured", ["repository"] = "git@github.com:acme-inc/u.git" })),
            ]),
        ["pipelines_delete.json"] = new(With(("pipeline", "docs")), []),
        ["pipelines_unarchive.json"] = new(
            async s =>
            {
                await World.SendOkAsync(s.Client, HttpMethod.Post, $"{Org}/pipelines/api/archive");
                return Placed(("pipeline", "api"));
            },
            [
                async (s, d) =>
                {
                    await World.SendOkAsync(s.Client, HttpMethod.Post, $"{Org}/pipelines/api/archive");
                    return Documented(d, null, ("pipeline", "api")) with { Token = World.MemberToken };
                },
                (s, d) => Task.FromResult(Documented(d, null, ("pipeline", "web"))),
            ]),
        ["pipelines_update.json"] = new(With(("pipeline", "web")), [(s, d) => Task.FromResult(Documented(d, new JsonObject { ["repository"] = "" }, ("pipeline", "web")))]),

        ["queues_create_hosted.json"] = new(
            async s => Placed(("cluster", await World.ClusterIdAsync(s.Client, "Hosted cluster"))),
            [async (s, d) => Documented(d, Merge(d, new JsonObject { ["key"] = "linux-small" }), ("cluster", await World.ClusterIdAsync(s.Client, "Hosted cluster")))]),
        ["queues_create_self_hosted.json"] = new(
            async s => Placed(("cluster", await World.ClusterIdAsync(s.Client, "Hosted cluster"))),
            [async (s, d) => Documented(d, Merge(d, new JsonObject { ["key"] = "" }), ("cluster", await World.ClusterIdAsync(s.Client, "Hosted cluster")))]),
        ["queues_delete.json"] = new(
            async s =>
            {
                var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "deploy");
                return Placed(("cluster", cluster), ("id", queue));
            },
            [
                async (s, d) =>
                {
                    var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "default");
                    return Documented(d, null, ("cluster", cluster), ("id", queue));
                },
            ]),
        ["queues_pause.json"] = new(
            async s =>
            {
                var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "deploy");
                return Placed(("cluster", cluster), ("id", queue));
            },
            [
                async (s, d) =>
                {
                    var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "default");
                    await World.SendOkAsync(s.Client, HttpMethod.Post, $"{Org}/clusters/{cluster}/queues/{queue}/pause_dispatch", new JsonObject());
                    return Documented(d, RequestBody(d), ("cluster", cluster), ("id", queue));
                },
            ]),
        ["queues_resume.json"] = new(
            async s =>
            {
                var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "deploy");
                await World.SendOkAsync(s.Client, HttpMethod.Post, $"{Org}/clusters/{cluster}/queues/{queue}/pause_dispatch", new JsonObject());
                return Placed(("cluster", cluster), ("id", queue));
            },
            [
                async (s, d) =>
                {
                    var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "default");
                    return Documented(d, null, ("cluster", cluster), ("id", queue));
                },
            ]),
        ["queues_update.json"] = new(
            async s =>
            {
                var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "default");
                return Placed(("cluster", cluster), ("id", queue));
            },
            [
                async (s, d) =>
                {
                    var (cluster, queue) = await World.QueueIdAsync(s.Client, "Default cluster", "default");
                    return Documented(d, new JsonObject { ["retry_agent_affinity"] = "nearest" }, ("cluster", cluster), ("id", queue));
                },
                async (s, d) =>
                {
                    var (cluster, queue) = await World.QueueIdAsync(s.Client, "Hosted cluster", "mac");
                    var hosted = new JsonObject { ["instanceShape"] = "MACOS_ARM64_M4_6X28", ["agentImageRef"] = "my-image:latest" };
                    return Documented(d, new JsonObject { ["hostedAgents"] = hosted }, ("cluster", cluster), ("id", queue));
                },
                async (s, d) =>
                {
                    var (cluster, queue) = await World.QueueIdAsync(s.Client, "Hosted cluster", "linux-small");
                    var hosted = new JsonObject { ["instanceShape"] = "MACOS_ARM64_M4_6X28" };
                    return Documented(d, new JsonObject { ["hostedAgents"] = hosted }, ("cluster", cluster), ("id", queue));
                },
            ]),

        ["rate_limit_exceeded_429.json"] = new(
            null,
            [
                async (s, d) =>
                {
                    await s.Client.GetJsonAsync($"{Org}/pipelines");
                    await s.Client.GetJsonAsync($"{Org}/pipelines");
                    return new ErrorRequest(HttpMethod.Get, $"{Org}/pipelines", null);
                },
            ],
            Custom: RateLimitExceededAsync,
            Configure: o => o.UserLimit = RateLimitSetting.Parse("2/60s")),
        ["rate_limit_headers.json"] = new(null, [], Custom: RateLimitHeadersAsync),
        ["rest_api_authentication.json"] = new(null, [], Custom: AuthenticationAsync),
        ["rest_api_pagination.json"] = new(null, [], Custom: PaginationAsync),
        ["rest_api_schema_root.json"] = new(null, [], Custom: RootAsync),

        ["team_members_create.json"] = new(
            async s => new Arranged(
                new Dictionary<string, string> { ["team"] = await World.TeamIdAsync(s.Client, "Platform") },
                new JsonObject { ["user_id"] = await World.UserIdAsync(s.Client, "morgan@sandbox.example") }),
            [
                async (s, d) => Documented(d, new JsonObject { ["user_id"] = await World.UserIdAsync(s.Client, "morgan@sandbox.example"), ["role"] = "owner" },
                    ("team", await World.TeamIdAsync(s.Client, "Platform"))),
            ]),
        ["team_members_delete.json"] = new(
            async s => Placed(("team", await World.TeamIdAsync(s.Client, "Everyone")), ("uuid", await World.UserIdAsync(s.Client, "morgan@sandbox.example"))),
            [async (s, d) => Documented(d, null, ("team", await World.TeamIdAsync(s.Client, "Platform")), ("uuid", await World.UserIdAsync(s.Client, "admin@sandbox.example")))]),
        ["team_members_update.json"] = new(
            async s => Placed(("team", await World.TeamIdAsync(s.Client, "Everyone")), ("uuid", await World.UserIdAsync(s.Client, "morgan@sandbox.example"))),
            [async (s, d) => Documented(d, new JsonObject { ["role"] = "boss" }, ("team", await World.TeamIdAsync(s.Client, "Everyone")), ("uuid", await World.UserIdAsync(s.Client, "morgan@sandbox.example")))]),
        ["team_pipelines_create.json"] = new(
            async s => new Arranged(
                new Dictionary<string, string> { ["team"] = await World.TeamIdAsync(s.Client, "Everyone") },
                new JsonObject { ["pipeline_id"] = await World.PipelineIdAsync(s.Client, "docs") }),
            [
                async (s, d) => Documented(d, new JsonObject { ["pipeline_id"] = await World.PipelineIdAsync(s.Client, "docs"), ["access_level"] = "everything" },
                    ("team", await World.TeamIdAsync(s.Client, "Everyone"))),
            ]),
        ["team_pipelines_delete.json"] = new(
            async s => Placed(("team", await World.TeamIdAsync(s.Client, "Platform")), ("uuid", await World.PipelineIdAsync(s.Client, "web"))),
            [async (s, d) => Documented(d, null, ("team", await World.TeamIdAsync(s.Client, "Platform")), ("uuid", await World.PipelineIdAsync(s.Client, "docs")))]),
        ["team_pipelines_update.json"] = new(
            async s => Placed(("team", await World.TeamIdAsync(s.Client, "Everyone")), ("uuid", await World.PipelineIdAsync(s.Client, "web"))),
            [async (s, d) => Documented(d, new JsonObject { ["access_level"] = "x" }, ("team", await World.TeamIdAsync(s.Client, "Everyone")), ("uuid", await World.PipelineIdAsync(s.Client, "web")))]),
        ["teams_create.json"] = new(With(), [(s, d) => Task.FromResult(Documented(d, new JsonObject { ["name"] = "" }))]),
        ["teams_delete.json"] = new(
            async s => Placed(("team", await World.TeamIdAsync(s.Client, "Everyone"))),
            [async (s, d) => Documented(d, null, ("team", await World.TeamIdAsync(s.Client, "Platform")))]),
        ["teams_enable.json"] = new(
            With(),
            [
                async (s, d) =>
                {
                    await World.SendOkAsync(s.Client, HttpMethod.Patch, "/_sandbox/organizations/acme", new JsonObject { ["planIncludesTeams"] = false });
                    return Documented(d, null);
                },
            ]),
        ["teams_update.json"] = new(
            async s => Placed(("team", await World.TeamIdAsync(s.Client, "Everyone"))),
            [async (s, d) => Documented(d, Merge(d, new JsonObject { ["privacy"] = "hidden" }), ("team", await World.TeamIdAsync(s.Client, "Everyone")))]),
    };

    private static string N(int number) => number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task RateLimitExceededAsync(TestSandbox s, JsonObject doc)
    {
        await s.Client.GetJsonAsync($"{Org}/pipelines");
        await s.Client.GetJsonAsync($"{Org}/pipelines");
        var (status, body, response) = await s.Client.SendAsync(HttpMethod.Post, $"{Org}/pipelines/web/builds",
            new JsonObject { ["commit"] = "HEAD", ["branch"] = "main" });

        var documented = doc["errors"]![0]!;
        Assert.Equal(429, status);
        Shape.AssertMatches(documented["body"], body, "429 body");
        Assert.Equal("rest_user", body!["scope"]!.GetValue<string>());
        Assert.Equal(2, body["limit"]!.GetValue<int>());
        Assert.Equal(3, body["current"]!.GetValue<int>());
        Assert.Matches(@"^You have exceeded your API rate limit\. Please wait \d+ seconds before making more requests\.$", body["message"]!.GetValue<string>());
        Assert.Equal("You have exceeded your API rate limit.", response.Headers.GetValues("RateLimit-User-Warning").Single());
        Assert.False(response.Headers.Contains("Retry-After"));
        Assert.Empty((await s.ClientFor(World.MemberToken).GetJsonAsync($"{Org}/pipelines/web/builds")).AsArray());
    }

    private static async Task RateLimitHeadersAsync(TestSandbox s, JsonObject doc)
    {
        var (_, _, response) = await s.Client.SendAsync(HttpMethod.Get, $"{Org}/pipelines");
        foreach (var (name, value) in doc["headers"]!.AsObject())
        {
            var got = Assert.Single(response.Headers.GetValues(name));
            var documented = value!.GetValue<string>();
            Assert.Equal(int.TryParse(documented, out _), int.TryParse(got, out _));
            if (!int.TryParse(documented, out _))
            {
                Assert.Equal(documented, got);
            }
        }

        Assert.Equal("199", response.Headers.GetValues("RateLimit-Remaining").Single());
        Assert.Equal("49", response.Headers.GetValues("RateLimit-User-Remaining").Single());
    }

    private static async Task AuthenticationAsync(TestSandbox s, JsonObject doc)
    {
        var (status, user, _) = await s.Client.SendAsync(HttpMethod.Get, "/v2" + doc["path"]!.GetValue<string>());
        Assert.Equal(200, status);
        Assert.Equal("admin@sandbox.example", user!["email"]!.GetValue<string>());

        // Basic authentication is not supported, even with the right token as the user name.
        using var basic = TestSandbox.Create(s.Server, null);
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(SandboxServer.DefaultToken + ":")));
        Assert.False(doc["responseBody"]!["basicAuthSupported"]!.GetValue<bool>());
        Assert.Equal(401, (await basic.SendAsync(HttpMethod.Get, "/v2/user")).Status);
    }

    private static async Task PaginationAsync(TestSandbox s, JsonObject doc)
    {
        for (var i = 0; i < 7; i++)
        {
            await s.Client.CreateBuildAsync();
        }

        var (status, first, response) = await s.Client.SendAsync(HttpMethod.Get, $"{Org}/pipelines/web/builds?per_page=2");
        Assert.Equal(doc["successStatus"]!.GetValue<int>(), status);
        Assert.Equal(2, first!.AsArray().Count);
        var link = response.Headers.GetValues(doc["headers"]!.AsObject().Single().Key).Single();
        var expectedBase = new Uri(s.Server.BaseAddress, "v2/organizations/acme/pipelines/web/builds").ToString();
        Assert.Equal($"<{expectedBase}?per_page=2&page=2>; rel=\"next\", <{expectedBase}?per_page=2&page=4>; rel=\"last\"", link);
    }

    private static async Task RootAsync(TestSandbox s, JsonObject doc)
    {
        using var anonymous = TestSandbox.Create(s.Server, null);
        var (status, body, _) = await anonymous.SendAsync(HttpMethod.Get, "/");
        Assert.Equal(200, status);
        Shape.AssertMatches(doc["responseBody"], body, "root");
        Assert.Equal("🛠", body!["message"]!.GetValue<string>());
    }
}
