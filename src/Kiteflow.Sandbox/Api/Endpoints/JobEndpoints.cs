using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Jobs: retry, unblock, reprioritize; on the organization route and the build-scoped one.</summary>
internal static class JobEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        foreach (var prefix in new[] { "/organizations/{org}/jobs/{job}", "/organizations/{org}/pipelines/{pipeline}/builds/{number}/jobs/{job}" })
        {
            api.Map(routes, "PUT", prefix + "/retry", Scopes.WriteBuilds, Retry);
            api.Map(routes, "PUT", prefix + "/unblock", Scopes.WriteBuilds, Unblock);
            api.Map(routes, "PUT", prefix + "/reprioritize", Scopes.WriteBuilds, Reprioritize);
        }
    }

    /// <summary>Finds the job, and on the build-scoped route checks that it belongs to that build.</summary>
    public static JobEntity? Find(RequestContext c, PipelineAccess needed, out ApiResult? error)
    {
        var job = c.FindJob(c.Route("job"), needed, out error);
        if (job is not null && c.Route("pipeline").Length > 0
            && (!string.Equals(job.Build.Pipeline.Slug, c.Route("pipeline"), StringComparison.OrdinalIgnoreCase)
                || job.Build.Number.ToString(System.Globalization.CultureInfo.InvariantCulture) != c.Route("number")))
        {
            error = ApiResult.NotFound("job");
            return null;
        }

        return job;
    }

    private static ApiResult Retry(RequestContext c)
    {
        var job = Find(c, PipelineAccess.Build, out var error);
        if (job is null)
        {
            return error!;
        }

        if (job.Type != "script" || job.State is not ("failed" or "timed_out" or "canceled") || job.Retried)
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest, "Only failed, timed out or canceled jobs can be retried");
        }

        if (job.Build.State is "canceled" or "canceling")
        {
            return ApiResult.Unprocessable("Jobs from canceled builds cannot be retried");
        }

        if (job.Build.TriggeredFrom is { Async: false } trigger && trigger.Build.State is "canceled" or "canceling")
        {
            return ApiResult.Unprocessable("This job can't be retried because this build was triggered by a synchronous trigger step in a canceled build");
        }

        var retry = BuildFactory.Retry(c.Store, job, "manual");
        return ApiResult.Ok(c.Render.Job(retry));
    }

    private static ApiResult Unblock(RequestContext c)
    {
        var job = Find(c, PipelineAccess.Build, out var error);
        if (job is null)
        {
            return error!;
        }

        if (job.Type != "manual")
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest, "This job type cannot be unblocked");
        }

        if (job.Build.State is "canceled" or "canceling")
        {
            return ApiResult.Unprocessable("Jobs from canceled builds cannot be unblocked");
        }

        var unblocker = c.User;
        if (c.Has("unblocker"))
        {
            var id = c.Str("unblocker");
            var user = Guid.TryParse(id, out var guid) ? c.Store.FindUser(guid) : null;
            if (user is null || !c.Org.Members.ContainsKey(user.Id))
            {
                return ApiResult.Unprocessable("Unblocker is not a valid user id for this organization");
            }

            unblocker = user;
        }

        if (job.State != "blocked")
        {
            return ApiResult.Unprocessable("This job has already been unblocked");
        }

        job.State = "unblocked";
        job.UnblockedBy = unblocker;
        job.UnblockedAt = c.Now;
        job.UnblockFields = c.Body["fields"]?.DeepClone() as JsonObject;
        foreach (var next in job.Build.Jobs.SkipWhile(j => j != job).Skip(1).TakeWhile(j => j.Type != "manual" && j.Type != "waiter"))
        {
            if (next.State == "waiting")
            {
                next.State = "scheduled";
                next.ScheduledAt = c.Now;
            }
        }

        return ApiResult.Ok(c.Render.Job(job));
    }

    private static ApiResult Reprioritize(RequestContext c)
    {
        var job = Find(c, PipelineAccess.Build, out var error);
        if (job is null)
        {
            return error!;
        }

        if (c.Body["priority"] is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue<int>(out var priority))
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest, "Priority must be an integer");
        }

        job.Priority = priority;
        return ApiResult.Ok(c.Render.Job(job));
    }
}
