using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Builds: create, list (per pipeline and per organization), get, cancel, rebuild, retry failed jobs.</summary>
internal static class BuildEndpoints
{
    private const int MaxMetaDataValueBytes = 100 * 1024;
    private static readonly string[] RetryableStates = ["canceled", "expired", "failed", "soft_failed", "timed_out"];
    private static readonly string[] CancelableStates = ["scheduled", "running", "failing"];

    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        const string builds = "/organizations/{org}/pipelines/{pipeline}/builds";
        api.Map(routes, "POST", builds, Scopes.WriteBuilds, Create);
        api.Map(routes, "GET", builds, Scopes.ReadBuilds, ListForPipeline);
        api.Map(routes, "GET", "/organizations/{org}/builds", Scopes.ReadBuilds, ListForOrganization);
        api.Map(routes, "GET", builds + "/{number}", Scopes.ReadBuilds, Get);
        api.Map(routes, "PUT", builds + "/{number}/cancel", Scopes.WriteBuilds, Cancel);
        api.Map(routes, "PUT", builds + "/{number}/rebuild", Scopes.WriteBuilds, Rebuild);
        api.Map(routes, "PUT", builds + "/{number}/retry_failed_jobs", Scopes.WriteBuilds, RetryFailedJobs);
    }

    private static ApiResult Create(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Build, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        var errors = new List<(string, string)>();
        var commit = c.Str("commit");
        var branch = c.Str("branch");
        if (string.IsNullOrWhiteSpace(commit))
        {
            errors.Add(("commit", "can't be blank"));
        }

        if (string.IsNullOrWhiteSpace(branch))
        {
            errors.Add(("branch", "can't be blank"));
        }

        foreach (var field in new[] { "env", "meta_data", "author" })
        {
            if (c.Has(field) && c.Body[field] is not (null or JsonObject))
            {
                errors.Add((field, "must be an object"));
            }
        }

        if (c.Has("pull_request_labels") && c.Body["pull_request_labels"] is not (null or JsonArray))
        {
            errors.Add(("pull_request_labels", "must be an array"));
        }

        // Buildkite keeps meta-data as strings; other JSON values are kept as their JSON text.
        var metaData = new Dictionary<string, string>(StringComparer.Ordinal);
        if (c.Body["meta_data"] is JsonObject meta)
        {
            foreach (var (key, node) in meta)
            {
                var value = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";
                if (key.Length == 0)
                {
                    errors.Add(("meta_data", "keys can't be blank"));
                }
                else if (Encoding.UTF8.GetByteCount(value) > MaxMetaDataValueBytes)
                {
                    errors.Add(("meta_data", $"value of '{key}' is too long (maximum is 100 KB)"));
                }
                else
                {
                    metaData[key] = value;
                }
            }
        }

        if (errors.Count > 0)
        {
            return ApiResult.ValidationFailed(errors);
        }

        if (pipeline.ArchivedAt is not null)
        {
            return ApiResult.Unprocessable("This pipeline is archived: unarchive it before creating builds.");
        }

        JsonObject? pullRequest = null;
        if (c.Has("pull_request_id") || c.Has("pull_request_base_branch") || c.Has("pull_request_repository") || c.Has("pull_request_labels"))
        {
            pullRequest = new JsonObject
            {
                ["id"] = c.Str("pull_request_id"),
                ["base"] = c.Str("pull_request_base_branch"),
                ["repository"] = c.Str("pull_request_repository"),
                ["labels"] = c.Body["pull_request_labels"]?.DeepClone() ?? new JsonArray(),
            };
        }

        var build = BuildFactory.Create(
            c.Store,
            pipeline,
            c.User,
            "api",
            commit!,
            branch!,
            c.Str("message"),
            c.Body["env"]?.DeepClone() as JsonObject ?? [],
            metaData,
            c.Body["author"]?.DeepClone() as JsonObject,
            pullRequest,
            c.Bool("clean_checkout") ?? false,
            c.Bool("ignore_pipeline_branch_filters") ?? false,
            null);
        return ApiResult.Created(c.Render.Build(build));
    }

    private static ApiResult ListForPipeline(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Read, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        return List(c, Newest(pipeline.Builds));
    }

    private static ApiResult ListForOrganization(RequestContext c)
    {
        var visible = new Dictionary<PipelineEntity, bool>();
        var builds = Newest(c.Org.Builds).Where(b => !b.Deleted
            && (visible.TryGetValue(b.Pipeline, out var v) ? v : visible[b.Pipeline] = c.AccessTo(b.Pipeline) > PipelineAccess.None));
        return List(c, builds);
    }

    private static IEnumerable<BuildEntity> Newest(List<BuildEntity> builds)
    {
        for (var i = builds.Count - 1; i >= 0; i--)
        {
            yield return builds[i];
        }
    }

    private static ApiResult List(RequestContext c, IEnumerable<BuildEntity> builds)
    {
        var branches = c.QueryList("branch");
        var states = c.QueryList("state")
            .SelectMany(s => s == "finished" ? ["passed", "failed", "blocked", "canceled"] : new[] { s })
            .ToHashSet(StringComparer.Ordinal);
        var commits = c.QueryList("commit");
        var creator = c.Query("creator");
        var createdFrom = Time(c.Query("created_from"));
        var createdTo = Time(c.Query("created_to"));
        var finishedFrom = Time(c.Query("finished_from"));
        var meta = new List<(string Key, string Value)>();
        foreach (var (key, values) in c.Http.Request.Query)
        {
            if (key.StartsWith("meta_data[", StringComparison.Ordinal) && key.EndsWith(']'))
            {
                meta.Add((key["meta_data[".Length..^1], values.ToString()));
            }
        }

        var filtered = builds.Where(b =>
            (branches.Count == 0 || branches.Contains(b.Branch))
            && (states.Count == 0 || states.Contains(b.State))
            && (commits.Count == 0 || commits.Contains(b.Commit))
            && (creator is null || string.Equals(b.Creator.Id.ToString(), creator, StringComparison.OrdinalIgnoreCase))
            && (createdFrom is null || b.CreatedAt >= createdFrom)
            && (createdTo is null || b.CreatedAt <= createdTo)
            && (finishedFrom is null || b.FinishedAt >= finishedFrom)
            && meta.TrueForAll(m => b.MetaData.TryGetValue(m.Key, out var value) && value == m.Value)).ToList();

        var includeJobs = !IsTrue(c.Query("exclude_jobs"));
        var includePipeline = !IsTrue(c.Query("exclude_pipeline"));
        return Pagination.Page(c, filtered, b => c.Render.Build(b, includeJobs, includePipeline));
    }

    private static bool IsTrue(string? value) => value is not null && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    private static DateTimeOffset? Time(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static ApiResult Get(RequestContext c)
    {
        var build = c.FindBuild(c.Route("pipeline"), c.Route("number"), PipelineAccess.Read, out var error);
        return build is null ? error! : ApiResult.Ok(c.Render.Build(build, !IsTrue(c.Query("exclude_jobs")), !IsTrue(c.Query("exclude_pipeline"))));
    }

    private static ApiResult Cancel(RequestContext c)
    {
        var build = c.FindBuild(c.Route("pipeline"), c.Route("number"), PipelineAccess.Build, out var error);
        if (build is null)
        {
            return error!;
        }

        if (!CancelableStates.Contains(build.State))
        {
            return ApiResult.Unprocessable($"This build can't be canceled because it is {build.State}; only scheduled, running or failing builds can be.");
        }

        BuildFactory.Cancel(build, c.Now);
        return ApiResult.Ok(c.Render.Build(build));
    }

    private static ApiResult Rebuild(RequestContext c)
    {
        var original = c.FindBuild(c.Route("pipeline"), c.Route("number"), PipelineAccess.Build, out var error);
        if (original is null)
        {
            return error!;
        }

        var pipeline = original.Pipeline;
        if (!pipeline.AllowRebuilds)
        {
            return ApiResult.Unprocessable("Rebuilds are disabled for this pipeline.");
        }

        if (pipeline.ArchivedAt is not null)
        {
            return ApiResult.Unprocessable("This pipeline is archived: unarchive it before creating builds.");
        }

        var build = BuildFactory.Create(
            c.Store,
            pipeline,
            c.User,
            "api",
            original.Commit,
            original.Branch,
            original.Message,
            original.Env.DeepClone().AsObject(),
            new Dictionary<string, string>(original.MetaData, StringComparer.Ordinal),
            original.Author?.DeepClone().AsObject(),
            original.PullRequest?.DeepClone().AsObject(),
            original.CleanCheckout,
            original.IgnorePipelineBranchFilters,
            original);
        return ApiResult.Ok(c.Render.Build(build));
    }

    private static ApiResult RetryFailedJobs(RequestContext c)
    {
        var build = c.FindBuild(c.Route("pipeline"), c.Route("number"), PipelineAccess.Build, out var error);
        if (build is null)
        {
            return error!;
        }

        List<string> states;
        if (c.Body["states"] is JsonArray array)
        {
            states = [.. array.Select(n => n?.ToString() ?? "")];
        }
        else
        {
            states = [.. (c.Str("states") ?? "failed,timed_out").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        var invalid = states.Where(s => !RetryableStates.Contains(s)).ToList();
        if (invalid.Count > 0)
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest,
                $"Invalid states: {string.Join(", ", invalid)}. Valid states are {string.Join(", ", RetryableStates)}.");
        }

        var retried = 0;
        foreach (var job in build.Jobs.Where(j => j.Type == "script" && !j.Retried && states.Contains(j.State)).ToList())
        {
            BuildFactory.Retry(c.Store, job, "manual");
            retried++;
        }

        var body = c.Render.Build(build);
        body["retried_jobs_count"] = retried;
        return ApiResult.Accepted(body);
    }
}
