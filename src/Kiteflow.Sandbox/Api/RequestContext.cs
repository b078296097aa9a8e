using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api;

internal enum PipelineAccess
{
    None,
    Read,
    Build,
    Manage,
}

/// <summary>One authenticated API request as a handler sees it, under the store's lock.</summary>
internal sealed class RequestContext
{
    private Render? _render;
    private DateTimeOffset? _now;

    public required HttpContext Http { get; init; }

    public required SandboxStore Store { get; init; }

    public required Urls Urls { get; init; }

    public required TokenEntity Token { get; init; }

    public required JsonObject Body { get; init; }

    public OrganizationEntity Org { get; set; } = null!;

    public UserEntity User => Token.User;

    public DateTimeOffset Now => _now ??= Store.Now;

    public Render Render => _render ??= new Render(Urls, this);

    public bool IsAdmin => Org.Members.TryGetValue(User.Id, out var role) && role == MemberRole.Admin;

    /// <summary>A value from the route, e.g. <c>pipeline</c> or <c>number</c>.</summary>
    public string Route(string key) => Http.Request.RouteValues.TryGetValue(key, out var value) ? value as string ?? "" : "";

    public string? Query(string key)
    {
        var values = Http.Request.Query[key];
        return values.Count == 0 ? null : values[^1];
    }

    /// <summary>The values of <c>key</c>, <c>key[]</c> and comma-separated lists, as Buildkite's list filters accept them.</summary>
    public List<string> QueryList(string key)
    {
        var values = new List<string>();
        foreach (var name in new[] { key, key + "[]" })
        {
            foreach (var value in Http.Request.Query[name])
            {
                if (value is not null)
                {
                    values.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                }
            }
        }

        return values;
    }

    public bool Has(string key) => Body.ContainsKey(key);

    /// <summary>A string field; numbers and booleans are read as their text, objects and arrays as absent.</summary>
    public string? Str(string key) => Body[key] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
        _ => null,
    };

    public bool IsStructured(string key) => Body[key] is JsonObject or JsonArray;

    /// <summary>A boolean field; <c>"true"</c>/<c>"false"</c> strings count, as Rails casts them.</summary>
    public bool? Bool(string key) => Body[key] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.String && bool.TryParse(v.GetValue<string>(), out var b) => b,
        _ => null,
    };

    public bool IsStrictBool(string key) => Body[key] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False;

    public int? Int(string key) => Body[key] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.GetValueKind() == JsonValueKind.String
            && int.TryParse(v.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) => i,
        _ => null,
    };

    public PipelineAccess AccessTo(PipelineEntity pipeline)
    {
        if (IsAdmin || !Org.TeamsEnabled)
        {
            return PipelineAccess.Manage;
        }

        var access = PipelineAccess.None;
        foreach (var team in Org.Teams)
        {
            if (!team.Members.Exists(m => m.User == User))
            {
                continue;
            }

            foreach (var link in team.Pipelines)
            {
                if (link.Pipeline == pipeline)
                {
                    var level = link.AccessLevel switch
                    {
                        "manage_build_and_read" => PipelineAccess.Manage,
                        "build_and_read" => PipelineAccess.Build,
                        _ => PipelineAccess.Read,
                    };
                    access = level > access ? level : access;
                }
            }
        }

        return access;
    }

    /// <summary>
    /// Finds a pipeline by slug: 404 <c>No pipeline found</c> when it does not exist or the user cannot see it,
    /// 403 <c>Forbidden</c> when the user sees it but lacks the access the operation needs.
    /// </summary>
    public PipelineEntity? FindPipeline(string slug, PipelineAccess needed, out ApiResult? error)
    {
        var pipeline = Org.Pipelines.Find(p => string.Equals(p.Slug, slug, StringComparison.OrdinalIgnoreCase));
        var access = pipeline is null ? PipelineAccess.None : AccessTo(pipeline);
        error = access == PipelineAccess.None ? ApiResult.NotFound("pipeline")
            : access < needed ? ApiResult.Forbidden()
            : null;
        return error is null ? pipeline : null;
    }

    public BuildEntity? FindBuild(string pipelineSlug, string number, PipelineAccess needed, out ApiResult? error)
    {
        var pipeline = FindPipeline(pipelineSlug, needed, out error);
        if (pipeline is null)
        {
            return null;
        }

        BuildEntity? build = null;
        if (int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n < pipeline.NextBuildNumber)
        {
            // Builds are appended in number order and never removed from a live pipeline.
            build = pipeline.Builds[n - 1];
        }

        error = build is null ? ApiResult.NotFound("build") : null;
        return build;
    }

    public JobEntity? FindJob(string id, PipelineAccess needed, out ApiResult? error)
    {
        error = null;
        if (!Guid.TryParse(id, out var guid) || !Org.Jobs.TryGetValue(guid, out var job) || job.Build.Deleted)
        {
            error = ApiResult.NotFound("job");
            return null;
        }

        var access = AccessTo(job.Build.Pipeline);
        error = access == PipelineAccess.None ? ApiResult.NotFound("job") : access < needed ? ApiResult.Forbidden() : null;
        return error is null ? job : null;
    }
}
