using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Api;
using Kiteflow.Sandbox.Faulting;
using Kiteflow.Sandbox.Hosting;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Inspection;

/// <summary>
/// The sandbox's own endpoints under <c>/_sandbox</c>: what it received, its state, reset, faults, tokens
/// and build states. They need no token (the sandbox listens on loopback only), are not rate limited,
/// are never faulted and are not in the request log.
/// </summary>
internal static class ControlEndpoints
{
    private static readonly string[] BuildStates =
        ["scheduled", "running", "passed", "failed", "blocked", "canceled", "canceling", "skipped", "not_run", "waiting", "waiting_failed", "failing"];

    public static void Map(IEndpointRouteBuilder routes, SandboxRuntime runtime)
    {
        routes.MapGet("/_sandbox/requests", () => ApiResult.Ok(runtime.Log.ToJson()));
        routes.MapDelete("/_sandbox/requests", () =>
        {
            runtime.Log.Clear();
            return ApiResult.NoContent();
        });
        routes.MapGet("/_sandbox/state", (HttpContext http) => ApiResult.Ok(State(runtime, http.Request.Query["organization"], http.Request.Query["pipeline"])));
        routes.MapPost("/_sandbox/reset", () =>
        {
            runtime.Reset();
            return ApiResult.NoContent();
        });
        routes.MapGet("/_sandbox/faults", () => ApiResult.Ok(FaultsJson(runtime.Faults.Rules)));
        routes.MapPost("/_sandbox/faults", (HttpContext http) => SetFaults(http, runtime));
        routes.MapDelete("/_sandbox/faults", () =>
        {
            runtime.Faults.Clear();
            return ApiResult.NoContent();
        });
        routes.MapPost("/_sandbox/tokens", (HttpContext http) => AddToken(http, runtime));
        routes.MapMethods("/_sandbox/organizations/{org}", ["PATCH"], (HttpContext http, string org) => UpdateOrganization(http, runtime, org));
        routes.MapPut("/_sandbox/organizations/{org}/pipelines/{pipeline}/builds/{number}/state",
            (HttpContext http, string org, string pipeline, string number) => SetBuildState(http, runtime, org, pipeline, number));
    }

    private static JsonObject? Body(HttpContext http, out ApiResult? error)
    {
        error = null;
        var bytes = http.Items[SandboxMiddleware.BodyKey] as byte[] ?? [];
        try
        {
            if (JsonNode.Parse(bytes.Length == 0 ? "{}"u8 : bytes, Formats.NodeOptions, Formats.DocumentOptions) is JsonObject body)
            {
                return body;
            }
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            error = ApiResult.Message(StatusCodes.Status400BadRequest, $"Problems parsing JSON: {e.Message}");
            return null;
        }

        error = ApiResult.Message(StatusCodes.Status400BadRequest, "The body must be a JSON object.");
        return null;
    }

    private static ApiResult SetFaults(HttpContext http, SandboxRuntime runtime)
    {
        var bytes = http.Items[SandboxMiddleware.BodyKey] as byte[] ?? [];
        var rules = FaultRules.Parse(Encoding.UTF8.GetString(bytes), out var errors);
        if (errors.Count > 0)
        {
            return new ApiResult(StatusCodes.Status400BadRequest, new JsonObject
            {
                ["message"] = "Invalid fault rules",
                ["errors"] = new JsonArray([.. errors.Select(e => (JsonNode?)e)]),
            });
        }

        runtime.Faults.Set(rules);
        return ApiResult.Ok(FaultsJson(runtime.Faults.Rules));
    }

    private static JsonObject FaultsJson(IReadOnlyList<SandboxFaultRule> rules) =>
        new() { ["rules"] = JsonSerializer.SerializeToNode(rules, FaultRules.Json) };

    private static ApiResult AddToken(HttpContext http, SandboxRuntime runtime)
    {
        var body = Body(http, out var error);
        if (body is null)
        {
            return error!;
        }

        var value = body["token"]?.ToString();
        var scopes = body["scopes"] is JsonArray array ? array.Select(s => s?.ToString() ?? "").ToList() : ["*"];
        var organizations = body["organizations"] is JsonArray orgs ? orgs.Select(s => s?.ToString() ?? "").ToList() : null;
        if (string.IsNullOrWhiteSpace(value) || value.Any(char.IsWhiteSpace))
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest, "token: give a non-empty token without spaces, e.g. {\"token\": \"bkua_mine\", \"scopes\": [\"read_builds\"]}.");
        }

        try
        {
            lock (runtime.Store.Gate)
            {
                runtime.Store.AddToken(new SandboxToken(value, scopes)
                {
                    UserEmail = body["user"]?.ToString(),
                    Description = body["description"]?.ToString(),
                    Organizations = organizations,
                });
            }
        }
        catch (ArgumentException e)
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest, e.Message);
        }

        return new ApiResult(StatusCodes.Status201Created, new JsonObject { ["token"] = "[REDACTED]", ["scopes"] = new JsonArray([.. scopes.Select(s => (JsonNode?)s)]) });
    }

    /// <summary>Changes an organization's settings: <c>requiresClusterId</c>, <c>teamsEnabled</c>, <c>planIncludesTeams</c>.</summary>
    private static ApiResult UpdateOrganization(HttpContext http, SandboxRuntime runtime, string slug)
    {
        var body = Body(http, out var error);
        if (body is null)
        {
            return error!;
        }

        lock (runtime.Store.Gate)
        {
            var org = runtime.Store.FindOrganization(slug);
            if (org is null)
            {
                return ApiResult.NotFound("organization");
            }

            foreach (var (key, value) in body)
            {
                if (value is not JsonValue v || v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return ApiResult.Message(StatusCodes.Status400BadRequest, $"{key}: must be true or false.");
                }

                var flag = v.GetValue<bool>();
                switch (key)
                {
                    case "requiresClusterId":
                        org.RequiresClusterId = flag;
                        break;
                    case "teamsEnabled":
                        org.TeamsEnabled = flag;
                        break;
                    case "planIncludesTeams":
                        org.PlanIncludesTeams = flag;
                        break;
                    default:
                        return ApiResult.Message(StatusCodes.Status400BadRequest, $"{key}: not a setting; use requiresClusterId, teamsEnabled or planIncludesTeams.");
                }
            }

            return ApiResult.NoContent();
        }
    }

    private static ApiResult SetBuildState(HttpContext http, SandboxRuntime runtime, string org, string pipelineSlug, string number)
    {
        var body = Body(http, out var error);
        if (body is null)
        {
            return error!;
        }

        var state = body["state"]?.ToString();
        if (state is null || !BuildStates.Contains(state))
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest, $"state: give one of {string.Join(", ", BuildStates)}.");
        }

        lock (runtime.Store.Gate)
        {
            var build = FindBuild(runtime.Store, org, pipelineSlug, number);
            if (build is null)
            {
                return ApiResult.NotFound("build");
            }

            if (body["triggeredFrom"] is JsonObject trigger)
            {
                var parent = FindBuild(runtime.Store, org, trigger["pipeline"]?.ToString() ?? "", trigger["number"]?.ToString() ?? "");
                if (parent is null)
                {
                    return ApiResult.Message(StatusCodes.Status400BadRequest, "triggeredFrom: no such build; give {\"pipeline\": slug, \"number\": n, \"async\": false}.");
                }

                build.TriggeredFrom = new TriggerLink(parent, trigger["async"]?.GetValue<bool>() ?? false);
            }

            BuildFactory.SetState(build, state, runtime.Store.Now);
            return ApiResult.NoContent();
        }
    }

    private static BuildEntity? FindBuild(SandboxStore store, string org, string pipelineSlug, string number)
    {
        var pipeline = store.FindOrganization(org)?.Pipelines.Find(p => string.Equals(p.Slug, pipelineSlug, StringComparison.OrdinalIgnoreCase));
        return pipeline is not null && int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= pipeline.Builds.Count
            ? pipeline.Builds[n - 1]
            : null;
    }

    /// <summary>The whole world, compactly: builds carry what a test counts by (number, state, meta_data, ...), oldest first.</summary>
    internal static JsonObject State(SandboxRuntime runtime, string? organization, string? pipelineFilter)
    {
        lock (runtime.Store.Gate)
        {
            var organizations = new JsonArray();
            foreach (var org in runtime.Store.Organizations)
            {
                if (organization is not null && !string.Equals(org.Slug, organization, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var builds = new JsonArray();
                var annotations = new JsonArray();
                foreach (var build in org.Builds)
                {
                    if (pipelineFilter is not null && !string.Equals(build.Pipeline.Slug, pipelineFilter, StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    builds.Add(Build(build));
                    foreach (var a in build.Annotations)
                    {
                        var json = Render.Annotation(a);
                        json["pipeline"] = build.Pipeline.Slug;
                        json["build_number"] = build.Number;
                        json["body"] = a.Body;
                        annotations.Add(json);
                    }
                }

                organizations.Add(new JsonObject
                {
                    ["id"] = org.Id.ToString(),
                    ["slug"] = org.Slug,
                    ["name"] = org.Name,
                    ["requiresClusterId"] = org.RequiresClusterId,
                    ["teamsEnabled"] = org.TeamsEnabled,
                    ["pipelines"] = new JsonArray([.. org.Pipelines.Select(p => (JsonNode?)new JsonObject
                    {
                        ["id"] = p.Id.ToString(),
                        ["slug"] = p.Slug,
                        ["name"] = p.Name,
                        ["repository"] = p.Repository,
                        ["cluster_id"] = p.ClusterId?.ToString(),
                        ["archived"] = p.ArchivedAt is not null,
                        ["builds_count"] = p.Builds.Count,
                        ["schedules_count"] = p.Schedules.Count,
                    })]),
                    ["builds"] = builds,
                    ["annotations"] = annotations,
                    ["agents"] = new JsonArray([.. org.Agents.Select(a => (JsonNode?)new JsonObject
                    {
                        ["id"] = a.Id.ToString(),
                        ["name"] = a.Name,
                        ["connection_state"] = a.ConnectionState,
                        ["paused"] = a.Paused,
                    })]),
                    ["clusters"] = new JsonArray([.. org.Clusters.Select(k => (JsonNode?)new JsonObject
                    {
                        ["id"] = k.Id.ToString(),
                        ["name"] = k.Name,
                        ["queues"] = new JsonArray([.. k.Queues.Select(q => (JsonNode?)new JsonObject
                        {
                            ["id"] = q.Id.ToString(),
                            ["key"] = q.Key,
                            ["dispatch_paused"] = q.DispatchPaused,
                        })]),
                    })]),
                    ["teams"] = new JsonArray([.. org.Teams.Select(t => (JsonNode?)new JsonObject
                    {
                        ["id"] = t.Id.ToString(),
                        ["slug"] = t.Slug,
                        ["name"] = t.Name,
                        ["members"] = t.Members.Count,
                        ["pipelines"] = new JsonArray([.. t.Pipelines.Select(tp => (JsonNode?)tp.Pipeline.Slug)]),
                    })]),
                    ["users"] = new JsonArray([.. runtime.Store.Users.Where(u => org.Members.ContainsKey(u.Id)).Select(u => (JsonNode?)new JsonObject
                    {
                        ["id"] = u.Id.ToString(),
                        ["name"] = u.Name,
                        ["email"] = u.Email,
                        ["role"] = org.Members[u.Id] == MemberRole.Admin ? "admin" : "member",
                    })]),
                });
            }

            return new JsonObject { ["organizations"] = organizations };
        }
    }

    private static JsonObject Build(BuildEntity b)
    {
        var meta = new JsonObject();
        foreach (var (key, value) in b.MetaData)
        {
            meta[key] = value;
        }

        return new JsonObject
        {
            ["id"] = b.Id.ToString(),
            ["pipeline"] = b.Pipeline.Slug,
            ["number"] = b.Number,
            ["state"] = b.State,
            ["source"] = b.Source,
            ["branch"] = b.Branch,
            ["commit"] = b.Commit,
            ["message"] = b.Message,
            ["creator"] = b.Creator.Email,
            ["meta_data"] = meta,
            ["env"] = b.Env.DeepClone(),
            ["author"] = b.Author?.DeepClone(),
            ["pull_request"] = b.PullRequest?.DeepClone(),
            ["clean_checkout"] = b.CleanCheckout,
            ["ignore_pipeline_branch_filters"] = b.IgnorePipelineBranchFilters,
            ["rebuilt_from"] = b.RebuiltFrom?.Number,
            ["jobs"] = b.Jobs.Count,
            ["annotations"] = b.Annotations.Count,
            ["created_at"] = Formats.Time(b.CreatedAt),
        };
    }
}
