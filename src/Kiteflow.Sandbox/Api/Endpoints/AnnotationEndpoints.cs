using System.Text;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;
using Markdig;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Annotations on builds and on jobs: create, list, delete. <c>body_html</c> is rendered from Markdown.</summary>
internal static class AnnotationEndpoints
{
    private const int MaxBodyBytes = 1024 * 1024;
    private static readonly string[] Styles = ["success", "info", "warning", "error"];
    private static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UsePipeTables().UseAutoLinks().UseTaskLists().Build();

    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        const string build = "/organizations/{org}/pipelines/{pipeline}/builds/{number}";
        api.Map(routes, "GET", build + "/annotations", Scopes.ReadBuilds, List);
        api.Map(routes, "POST", build + "/annotations", Scopes.WriteBuilds, c => Create(c, job: false));
        api.Map(routes, "DELETE", build + "/annotations/{uuid}", Scopes.WriteBuilds, c => Delete(c, job: false));
        foreach (var job in new[] { "/organizations/{org}/jobs/{job}", build + "/jobs/{job}" })
        {
            api.Map(routes, "POST", job + "/annotations", Scopes.WriteBuilds, c => Create(c, job: true));
            api.Map(routes, "DELETE", job + "/annotations/{uuid}", Scopes.WriteBuilds, c => Delete(c, job: true));
        }
    }

    public static string ToHtml(string markdown) => Markdig.Markdown.ToHtml(markdown, Markdown);

    private static (BuildEntity? Build, JobEntity? Job, ApiResult? Error) Target(RequestContext c, bool job, PipelineAccess needed)
    {
        if (job)
        {
            var found = JobEndpoints.Find(c, needed, out var error);
            return (found?.Build, found, error);
        }

        var build = c.FindBuild(c.Route("pipeline"), c.Route("number"), needed, out var buildError);
        return (build, null, buildError);
    }

    private static ApiResult List(RequestContext c)
    {
        var (build, _, error) = Target(c, job: false, PipelineAccess.Read);
        return build is null ? error! : Pagination.Page(c, build.Annotations, Render.Annotation);
    }

    private static ApiResult Create(RequestContext c, bool job)
    {
        var (build, target, error) = Target(c, job, PipelineAccess.Build);
        if (build is null)
        {
            return error!;
        }

        var errors = new List<(string, string)>();
        var body = c.Str("body");
        if (string.IsNullOrWhiteSpace(body))
        {
            errors.Add(("body", "can't be blank"));
        }
        else if (Encoding.UTF8.GetByteCount(body) > MaxBodyBytes)
        {
            errors.Add(("body", "is too long (maximum is 1 MiB)"));
        }

        var style = c.Str("style") ?? "default";
        if (c.Has("style") && !Styles.Contains(style))
        {
            errors.Add(("style", "is not included in the list"));
        }

        var priority = c.Has("priority") ? c.Int("priority") : 3;
        if (priority is null or < 1 or > 10)
        {
            errors.Add(("priority", "must be an integer between 1 and 10"));
        }

        if (errors.Count > 0)
        {
            return ApiResult.ValidationFailed(errors);
        }

        var context = c.Str("context") ?? "default";
        var existing = build.Annotations.Find(a => a.Context == context && a.Job == target);
        if (existing is not null)
        {
            // Same context: replaced, or added to when "append" is true.
            existing.Body = c.Bool("append") == true ? existing.Body + body : body!;
            existing.BodyHtml = ToHtml(existing.Body);
            existing.Style = c.Has("style") ? style : existing.Style;
            existing.Priority = c.Has("priority") ? priority!.Value : existing.Priority;
            existing.UpdatedAt = c.Now;
            return ApiResult.Created(Render.Annotation(existing));
        }

        var annotation = new AnnotationEntity
        {
            Id = c.Store.Ids.NewGuid(),
            Build = build,
            Job = target,
            Context = context,
            Style = style,
            Priority = priority!.Value,
            Body = body!,
            BodyHtml = ToHtml(body!),
            CreatedAt = c.Now,
            UpdatedAt = c.Now,
        };
        build.Annotations.Add(annotation);
        return ApiResult.Created(Render.Annotation(annotation));
    }

    private static ApiResult Delete(RequestContext c, bool job)
    {
        var (build, target, error) = Target(c, job, PipelineAccess.Build);
        if (build is null)
        {
            return error!;
        }

        var removed = Guid.TryParse(c.Route("uuid"), out var id)
            ? build.Annotations.RemoveAll(a => a.Id == id && (!job || a.Job == target))
            : 0;
        return removed == 0 ? ApiResult.NotFound("annotation") : ApiResult.NoContent();
    }
}
