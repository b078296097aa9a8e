using System.Text.Json.Nodes;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Pipelines: list, get, create, update, delete, archive, unarchive, add webhook.</summary>
internal static class PipelineEndpoints
{
    public const string MissingConfiguration = "Step configuration is missing, expected `steps: { yaml: \"...\" }`";
    private static readonly string[] Visibilities = ["private", "public"];
    private static readonly string[] AccessLevels = ["read_only", "build_and_read", "manage_build_and_read"];

    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        const string pipelines = "/organizations/{org}/pipelines";
        api.Map(routes, "GET", pipelines, Scopes.ReadPipelines, List);
        api.Map(routes, "POST", pipelines, Scopes.WritePipelines, Create);
        api.Map(routes, "GET", pipelines + "/{pipeline}", Scopes.ReadPipelines, Get);
        api.Map(routes, "PATCH", pipelines + "/{pipeline}", Scopes.WritePipelines, Update);
        api.Map(routes, "DELETE", pipelines + "/{pipeline}", Scopes.WritePipelines, Delete);
        api.Map(routes, "POST", pipelines + "/{pipeline}/archive", Scopes.WritePipelines, Archive);
        api.Map(routes, "POST", pipelines + "/{pipeline}/unarchive", Scopes.WritePipelines, Unarchive);
        api.Map(routes, "POST", pipelines + "/{pipeline}/webhook", Scopes.WritePipelines, AddWebhook);
    }

    private static ApiResult List(RequestContext c)
    {
        var visible = c.Org.Pipelines.Where(p => c.AccessTo(p) > PipelineAccess.None).ToList();
        return Pagination.Page(c, visible, p => c.Render.Pipeline(p));
    }

    private static ApiResult Get(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Read, out var error);
        return pipeline is null ? error! : ApiResult.Ok(c.Render.Pipeline(pipeline));
    }

    private static ApiResult Create(RequestContext c)
    {
        var errors = new List<(string, string)>();
        var name = c.Str("name");
        var repository = c.Str("repository");
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add(("name", "can't be blank"));
        }

        if (string.IsNullOrWhiteSpace(repository))
        {
            errors.Add(("repository", "can't be blank"));
        }

        var configuration = c.Str("configuration");
        var steps = c.Body["steps"] as JsonArray;
        if (string.IsNullOrWhiteSpace(configuration) && steps is null && c.Str("pipeline_template_uuid") is null)
        {
            errors.Add(("configuration", MissingConfiguration));
        }

        var cluster = ValidateCluster(c, errors, required: c.Org.RequiresClusterId);
        var slug = ValidateSlugAndName(c, null, name, errors);
        ValidateCommon(c, errors);
        var teams = ValidateTeams(c, errors);
        if (errors.Count > 0)
        {
            return ApiResult.ValidationFailed(errors);
        }

        var pipeline = new PipelineEntity
        {
            Id = c.Store.Ids.NewGuid(),
            Organization = c.Org,
            Name = name!.Trim(),
            Slug = slug!,
            Repository = repository!,
            Configuration = string.IsNullOrWhiteSpace(configuration) ? null : configuration,
            VisualSteps = string.IsNullOrWhiteSpace(configuration) ? steps?.DeepClone().AsArray() : null,
            ClusterId = cluster?.Id,
            CreatedAt = c.Now,
            CreatedBy = c.User,
            BadgeToken = c.Store.Ids.NewHex(50),
            WebhookToken = c.Store.Ids.NewHex(50),
        };
        Apply(c, pipeline);
        c.Org.Pipelines.Add(pipeline);

        if (teams.Count == 0 && c.Org.TeamsEnabled)
        {
            // No teams named: the pipeline joins the creator's teams, so its creator keeps access to it.
            teams = c.Org.Teams.Where(t => t.Members.Exists(m => m.User == c.User)).Select(t => (t, "manage_build_and_read")).ToList();
        }

        foreach (var (team, level) in teams)
        {
            team.Pipelines.Add(new TeamPipelineEntity { Pipeline = pipeline, AccessLevel = level, CreatedAt = c.Now });
        }

        return ApiResult.Created(c.Render.Pipeline(pipeline));
    }

    private static ApiResult Update(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Manage, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        var errors = new List<(string, string)>();
        string? name = null;
        if (c.Has("name"))
        {
            name = c.Str("name");
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add(("name", "can't be blank"));
            }
        }

        if (c.Has("repository") && string.IsNullOrWhiteSpace(c.Str("repository")))
        {
            errors.Add(("repository", "can't be blank"));
        }

        if (c.Has("configuration") && string.IsNullOrWhiteSpace(c.Str("configuration")) && pipeline.VisualSteps is null)
        {
            errors.Add(("configuration", MissingConfiguration));
        }

        if (c.Has("steps") && pipeline.Configuration is not null && !c.Has("configuration"))
        {
            errors.Add(("steps", "can't be set on a YAML pipeline without its configuration"));
        }

        var cluster = c.Has("cluster_id") ? ValidateCluster(c, errors, required: c.Org.RequiresClusterId) : null;
        var slug = c.Has("name") || c.Has("slug") ? ValidateSlugAndName(c, pipeline, name ?? pipeline.Name, errors) : pipeline.Slug;
        ValidateCommon(c, errors);
        if (errors.Count > 0)
        {
            return ApiResult.ValidationFailed(errors);
        }

        if (name is not null)
        {
            pipeline.Name = name.Trim();
        }

        pipeline.Slug = slug!;
        if (c.Str("repository") is { } repository)
        {
            pipeline.Repository = repository;
        }

        if (c.Str("configuration") is { } configuration)
        {
            pipeline.Configuration = configuration;
            pipeline.VisualSteps = null;
        }
        else if (c.Body["steps"] is JsonArray steps)
        {
            pipeline.VisualSteps = steps.DeepClone().AsArray();
        }

        if (c.Has("cluster_id"))
        {
            pipeline.ClusterId = cluster?.Id;
        }

        Apply(c, pipeline);
        return ApiResult.Ok(c.Render.Pipeline(pipeline));
    }

    private static ApiResult Delete(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Manage, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        c.Org.Pipelines.Remove(pipeline);
        foreach (var build in pipeline.Builds)
        {
            build.Deleted = true;
            foreach (var job in build.Jobs)
            {
                c.Org.Jobs.Remove(job.Id);
            }
        }

        c.Org.Builds.RemoveAll(b => b.Pipeline == pipeline);
        foreach (var team in c.Org.Teams)
        {
            team.Pipelines.RemoveAll(tp => tp.Pipeline == pipeline);
        }

        return ApiResult.NoContent();
    }

    private static ApiResult Archive(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Manage, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        if (pipeline.ArchivedAt is not null)
        {
            return ApiResult.Unprocessable("Pipeline could not be archived.");
        }

        pipeline.ArchivedAt = c.Now;
        return ApiResult.Ok(c.Render.Pipeline(pipeline));
    }

    private static ApiResult Unarchive(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Manage, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        if (pipeline.ArchivedAt is null)
        {
            return ApiResult.Unprocessable("Pipeline could not be unarchived.");
        }

        pipeline.ArchivedAt = null;
        return ApiResult.Ok(c.Render.Pipeline(pipeline));
    }

    private static ApiResult AddWebhook(RequestContext c)
    {
        var pipeline = c.FindPipeline(c.Route("pipeline"), PipelineAccess.Manage, out var error);
        if (pipeline is null)
        {
            return error!;
        }

        if (Providers.Detect(pipeline.Repository).Id is not ("github" or "github_enterprise"))
        {
            return ApiResult.Unprocessable("Auto-creating webhooks is not supported for your repository.");
        }

        if (pipeline.WebhookCreated)
        {
            return ApiResult.Unprocessable("Webhooks could not be created for your repository.");
        }

        pipeline.WebhookCreated = true;
        return ApiResult.Created(new JsonObject { ["webhook_url"] = $"https://webhook.buildkite.com/deliver/{pipeline.WebhookToken}" });
    }

    private static ClusterEntity? ValidateCluster(RequestContext c, List<(string, string)> errors, bool required)
    {
        var id = c.Str("cluster_id");
        if (string.IsNullOrWhiteSpace(id))
        {
            if (required)
            {
                errors.Add(("cluster_id", "can't be blank"));
            }

            return null;
        }

        var cluster = Guid.TryParse(id, out var guid) ? c.Org.Clusters.Find(k => k.Id == guid) : null;
        if (cluster is null)
        {
            errors.Add(("cluster_id", "is invalid"));
        }

        return cluster;
    }

    private static string? ValidateSlugAndName(RequestContext c, PipelineEntity? self, string? name, List<(string, string)> errors)
    {
        var explicitSlug = c.Str("slug");
        var slug = !string.IsNullOrWhiteSpace(explicitSlug) ? explicitSlug : name is null ? null : Slugs.FromName(name);
        if (slug is null)
        {
            return null;
        }

        if (!Slugs.IsValid(slug))
        {
            errors.Add(("slug", "is invalid"));
            return null;
        }

        var others = c.Org.Pipelines.Where(p => p != self).ToList();
        if (name is not null && others.Exists(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add(("name", "has already been taken"));
        }
        else if (others.Exists(p => string.Equals(p.Slug, slug, StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add(("slug", "has already been taken"));
        }

        return slug;
    }

    private static void ValidateCommon(RequestContext c, List<(string, string)> errors)
    {
        if (c.Has("visibility") && !Visibilities.Contains(c.Str("visibility")))
        {
            errors.Add(("visibility", "is not included in the list"));
        }

        if (c.Has("env") && c.Body["env"] is not (null or JsonObject))
        {
            errors.Add(("env", "must be an object"));
        }

        if (c.Has("tags") && c.Body["tags"] is not (null or JsonArray))
        {
            errors.Add(("tags", "must be an array"));
        }

        if (c.Has("provider_settings") && c.Body["provider_settings"] is not (null or JsonObject))
        {
            errors.Add(("provider_settings", "must be an object"));
        }
    }

    private static List<(TeamEntity Team, string Level)> ValidateTeams(RequestContext c, List<(string, string)> errors)
    {
        var teams = new List<(TeamEntity, string)>();
        IEnumerable<(string Key, string Level)> wanted = c.Body["teams"] switch
        {
            JsonArray array => array.Select(n => (n?.ToString() ?? "", "manage_build_and_read")),
            JsonObject map => map.Select(kv => (kv.Key, kv.Value is JsonObject o ? o["access_level"]?.ToString() ?? "manage_build_and_read" : kv.Value?.ToString() ?? "")),
            _ => [],
        };
        foreach (var (key, level) in wanted)
        {
            var team = c.Org.Teams.Find(t => t.Id.ToString() == key || string.Equals(t.Slug, key, StringComparison.OrdinalIgnoreCase));
            if (team is null || !AccessLevels.Contains(level))
            {
                errors.Add(("teams", "is invalid"));
                return [];
            }

            teams.Add((team, level));
        }

        return teams;
    }

    /// <summary>Sets the optional fields a create or update carries.</summary>
    private static void Apply(RequestContext c, PipelineEntity p)
    {
        if (c.Has("description")) { p.Description = c.Str("description"); }
        if (c.Str("default_branch") is { } branch) { p.DefaultBranch = branch; }
        if (c.Has("branch_configuration")) { p.BranchConfiguration = c.Str("branch_configuration"); }
        if (c.Has("emoji")) { p.Emoji = c.Str("emoji"); }
        if (c.Has("color")) { p.Color = c.Str("color"); }
        if (c.Bool("skip_queued_branch_builds") is { } skip) { p.SkipQueuedBranchBuilds = skip; }
        if (c.Has("skip_queued_branch_builds_filter")) { p.SkipQueuedBranchBuildsFilter = c.Str("skip_queued_branch_builds_filter"); }
        if (c.Bool("cancel_running_branch_builds") is { } cancel) { p.CancelRunningBranchBuilds = cancel; }
        if (c.Has("cancel_running_branch_builds_filter")) { p.CancelRunningBranchBuildsFilter = c.Str("cancel_running_branch_builds_filter"); }
        if (c.Bool("allow_rebuilds") is { } rebuilds) { p.AllowRebuilds = rebuilds; }
        if (c.Str("visibility") is { } visibility) { p.Visibility = visibility; }
        if (c.Body["tags"] is JsonArray tags) { p.Tags = tags.DeepClone().AsArray(); }
        if (c.Body["provider_settings"] is JsonObject settings) { p.ProviderSettings = settings.DeepClone().AsObject(); }
        if (c.Has("pipeline_template_uuid")) { p.PipelineTemplateUuid = c.Str("pipeline_template_uuid"); }
        if (c.Has("default_command_step_timeout")) { p.DefaultCommandStepTimeout = c.Int("default_command_step_timeout"); }
        if (c.Has("maximum_command_step_timeout")) { p.MaximumCommandStepTimeout = c.Int("maximum_command_step_timeout"); }
        if (c.Has("clone_mirror_url")) { p.CloneMirrorUrl = c.Str("clone_mirror_url"); }

        // Buildkite ignores env on YAML pipelines (the YAML carries its own); visual-step pipelines keep it.
        if (c.Body["env"] is JsonObject env && p.Configuration is null)
        {
            p.Env = env.DeepClone().AsObject();
        }
    }
}
