using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Pipeline schedules: list, get, create, update (PUT as the docs, PATCH as go-buildkite), delete.</summary>
internal static class ScheduleEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        const string schedules = "/organizations/{org}/pipelines/{pipeline}/schedules";
        api.Map(routes, "GET", schedules, Scopes.ReadPipelines, List);
        api.Map(routes, "POST", schedules, Scopes.WritePipelines, Create);
        api.Map(routes, "GET", schedules + "/{id}", Scopes.ReadPipelines, Get);
        api.Map(routes, "PUT", schedules + "/{id}", Scopes.WritePipelines, Update);
        api.Map(routes, "PATCH", schedules + "/{id}", Scopes.WritePipelines, Update);
        api.Map(routes, "DELETE", schedules + "/{id}", Scopes.WritePipelines, Delete);
    }

    private static ApiResult List(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Read, out var error);
        return pipeline is null ? error! : Pagination.Page(c, pipeline.Schedules, s => c.Render.Schedule(s, c.Now));
    }

    private static ScheduleEntity? Find(RequestContext c, PipelineAccess needed, out ApiResult? error)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), needed, out error);
        if (pipeline is null)
        {
            return null;
        }

        var schedule = Guid.TryParse(c.Route("id"), out var id) ? pipeline.Schedules.Find(s => s.Id == id) : null;
        error = schedule is null ? ApiResult.NotFound("pipeline schedule") : null;
        return schedule;
    }

    private static ApiResult Get(RequestContext c)
    {
        var schedule = Find(c, PipelineAccess.Read, out var error);
        return schedule is null ? error! : ApiResult.Ok(c.Render.Schedule(schedule, c.Now));
    }

    private static List<string> Validate(RequestContext c, bool creating)
    {
        var reasons = new List<string>();
        if (creating || c.Has("cronline"))
        {
            var cronline = c.Str("cronline");
            if (string.IsNullOrWhiteSpace(cronline))
            {
                reasons.Add("Cronline can't be blank");
            }
            else if (!Cron.IsValid(cronline))
            {
                reasons.Add("Cronline is invalid");
            }
        }

        if (c.Has("env") && c.Body["env"] is not (null or JsonObject))
        {
            reasons.Add("Env must be an object");
        }

        if (c.Has("enabled") && c.Bool("enabled") is null)
        {
            reasons.Add("Enabled must be true or false");
        }

        if (c.Has("branch") && string.IsNullOrWhiteSpace(c.Str("branch")))
        {
            reasons.Add("Branch can't be blank");
        }

        return reasons;
    }

    private static ApiResult Create(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Manage, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        var reasons = Validate(c, creating: true);
        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        var schedule = new ScheduleEntity
        {
            Id = c.Store.Ids.NewGuid(),
            Pipeline = pipeline,
            Cronline = c.Str("cronline")!,
            Branch = pipeline.DefaultBranch,
            CreatedBy = c.User,
            CreatedAt = c.Now,
        };
        Apply(c, schedule);
        pipeline.Schedules.Add(schedule);
        return ApiResult.Created(c.Render.Schedule(schedule, c.Now));
    }

    private static ApiResult Update(RequestContext c)
    {
        var schedule = Find(c, PipelineAccess.Manage, out var error);
        if (schedule is null)
        {
            return error!;
        }

        var reasons = Validate(c, creating: false);
        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        Apply(c, schedule);
        return ApiResult.Ok(c.Render.Schedule(schedule, c.Now));
    }

    private static ApiResult Delete(RequestContext c)
    {
        var schedule = Find(c, PipelineAccess.Manage, out var error);
        if (schedule is null)
        {
            return error!;
        }

        schedule.Pipeline.Schedules.Remove(schedule);
        return ApiResult.NoContent();
    }

    private static void Apply(RequestContext c, ScheduleEntity s)
    {
        s.Cronline = c.Str("cronline") ?? s.Cronline;
        s.Label = c.Has("label") ? c.Str("label") : s.Label;
        s.Message = c.Has("message") ? c.Str("message") : s.Message;
        s.Commit = c.Str("commit") ?? s.Commit;
        s.Branch = c.Str("branch") ?? s.Branch;
        s.Env = c.Body["env"] is JsonObject env ? env.DeepClone().AsObject() : s.Env;
        s.Enabled = c.Bool("enabled") ?? s.Enabled;
    }
}
