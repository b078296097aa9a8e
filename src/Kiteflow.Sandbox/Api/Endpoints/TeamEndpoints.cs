using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Teams, their members and their pipelines.</summary>
internal static class TeamEndpoints
{
    private static readonly string[] Privacies = ["visible", "secret"];
    private static readonly string[] Roles = ["member", "maintainer"];
    private static readonly string[] AccessLevels = ["read_only", "build_and_read", "manage_build_and_read"];

    private static readonly (string Field, string Label)[] Booleans =
    [
        ("is_default_team", "Is default team"),
        ("members_can_create_pipelines", "Members can create pipelines"),
        ("members_can_create_suites", "Members can create suites"),
        ("members_can_create_registries", "Members can create registries"),
        ("members_can_destroy_registries", "Members can destroy registries"),
        ("members_can_destroy_packages", "Members can destroy packages"),
    ];

    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        const string teams = "/organizations/{org}/teams";
        const string team = teams + "/{team}";
        api.Map(routes, "GET", teams, Scopes.ReadTeams, c => Pagination.Page(c, c.Org.Teams, c.Render.Team));
        api.Map(routes, "POST", teams, Scopes.WriteTeams, Create);
        api.Map(routes, "POST", teams + "/enable", Scopes.WriteTeams, Enable);
        api.Map(routes, "GET", team, Scopes.ReadTeams, Get);
        api.Map(routes, "PATCH", team, Scopes.WriteTeams, Update);
        api.Map(routes, "PUT", team, Scopes.WriteTeams, Update);
        api.Map(routes, "DELETE", team, Scopes.WriteTeams, Delete);
        api.Map(routes, "GET", team + "/members", Scopes.ReadTeams, ListMembers);
        api.Map(routes, "POST", team + "/members", Scopes.WriteTeams, AddMember);
        api.Map(routes, "GET", team + "/members/{uuid}", Scopes.ReadTeams, GetMember);
        api.Map(routes, "PATCH", team + "/members/{uuid}", Scopes.WriteTeams, UpdateMember);
        api.Map(routes, "DELETE", team + "/members/{uuid}", Scopes.WriteTeams, RemoveMember);
        api.Map(routes, "GET", team + "/pipelines", Scopes.ReadTeams, ListPipelines);
        api.Map(routes, "POST", team + "/pipelines", Scopes.WriteTeams, AddPipeline);
        api.Map(routes, "GET", team + "/pipelines/{uuid}", Scopes.ReadTeams, GetPipeline);
        api.Map(routes, "PATCH", team + "/pipelines/{uuid}", Scopes.WriteTeams, UpdatePipeline);
        api.Map(routes, "DELETE", team + "/pipelines/{uuid}", Scopes.WriteTeams, RemovePipeline);
    }

    /// <summary>Finds a team by UUID; a change takes an administrator or one of the team's maintainers.</summary>
    private static TeamEntity? Find(RequestContext c, bool change, out ApiResult? error)
    {
        var team = Guid.TryParse(c.Route("team"), out var id) ? c.Org.Teams.Find(t => t.Id == id) : null;
        var allowed = !change || c.IsAdmin || (team?.Members.Exists(m => m.User == c.User && m.Role == "maintainer") ?? false);
        error = team is null ? ApiResult.NotFound("team") : allowed ? null : ApiResult.Forbidden();
        return error is null ? team : null;
    }

    private static ApiResult Get(RequestContext c)
    {
        var team = Find(c, change: false, out var error);
        return team is null ? error! : ApiResult.Ok(c.Render.Team(team));
    }

    /// <summary>The docs mark all ten team properties required, on create and on update: the sandbox holds to that.</summary>
    private static List<string> Validate(RequestContext c, TeamEntity? self)
    {
        var reasons = new List<string>();
        var name = c.Str("name");
        if (string.IsNullOrWhiteSpace(name))
        {
            reasons.Add("Name can't be blank");
        }
        else if (c.Org.Teams.Exists(t => t != self && string.Equals(t.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            reasons.Add("Name has already been taken");
        }

        if (!c.Has("description"))
        {
            reasons.Add("Description can't be blank");
        }

        if (!Privacies.Contains(c.Str("privacy")))
        {
            reasons.Add("Privacy is not included in the list");
        }

        if (!Roles.Contains(c.Str("default_member_role")))
        {
            reasons.Add("Default member role is not included in the list");
        }

        foreach (var (field, label) in Booleans)
        {
            if (!c.IsStrictBool(field))
            {
                reasons.Add($"{label} must be true or false");
            }
        }

        return reasons;
    }

    private static void Apply(RequestContext c, TeamEntity t)
    {
        t.Name = c.Str("name")!.Trim();
        t.Slug = Slugs.FromName(t.Name);
        t.Description = c.Str("description");
        t.Privacy = c.Str("privacy")!;
        t.DefaultMemberRole = c.Str("default_member_role")!;
        t.IsDefaultTeam = c.Bool("is_default_team")!.Value;
        t.MembersCanCreatePipelines = c.Bool("members_can_create_pipelines")!.Value;
        t.MembersCanCreateSuites = c.Bool("members_can_create_suites")!.Value;
        t.MembersCanCreateRegistries = c.Bool("members_can_create_registries")!.Value;
        t.MembersCanDestroyRegistries = c.Bool("members_can_destroy_registries")!.Value;
        t.MembersCanDestroyPackages = c.Bool("members_can_destroy_packages")!.Value;
    }

    private static ApiResult Create(RequestContext c)
    {
        if (!c.IsAdmin)
        {
            return ApiResult.Forbidden();
        }

        var reasons = Validate(c, null);
        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        var team = new TeamEntity { Id = c.Store.Ids.NewGuid(), Name = "", Slug = "", CreatedBy = c.User, CreatedAt = c.Now };
        Apply(c, team);
        team.Members.Add(new TeamMemberEntity { User = c.User, Role = "maintainer", CreatedAt = c.Now });
        c.Org.Teams.Add(team);
        return ApiResult.Created(c.Render.Team(team));
    }

    private static ApiResult Update(RequestContext c)
    {
        var team = Find(c, change: true, out var error);
        if (team is null)
        {
            return error!;
        }

        var reasons = Validate(c, team);
        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        Apply(c, team);
        return ApiResult.Ok(c.Render.Team(team));
    }

    private static ApiResult Delete(RequestContext c)
    {
        var team = Find(c, change: true, out var error);
        if (team is null)
        {
            return error!;
        }

        var orphan = team.Pipelines.Find(tp => !c.Org.Teams.Exists(t => t != team && t.Pipelines.Exists(o => o.Pipeline == tp.Pipeline)));
        if (orphan is not null)
        {
            return ApiResult.Unprocessable($"This team can't be deleted: it is the only team of pipeline '{orphan.Pipeline.Slug}', and pipelines must belong to a team.");
        }

        c.Org.Teams.Remove(team);
        return ApiResult.NoContent();
    }

    private static ApiResult Enable(RequestContext c)
    {
        if (!c.Org.PlanIncludesTeams)
        {
            return ApiResult.Message(StatusCodes.Status403Forbidden, "Your plan doesn't include team permissions. Upgrade your plan to enable teams.");
        }

        if (!c.IsAdmin)
        {
            return ApiResult.Forbidden();
        }

        c.Org.TeamsEnabled = true;
        return ApiResult.NoContent();
    }

    private static TeamMemberEntity? FindMember(RequestContext c, bool change, out ApiResult? error)
    {
        var team = Find(c, change, out error);
        var member = team is not null && Guid.TryParse(c.Route("uuid"), out var id) ? team.Members.Find(m => m.User.Id == id) : null;
        error ??= member is null ? ApiResult.NotFound("team member") : null;
        return member;
    }

    private static ApiResult ListMembers(RequestContext c)
    {
        var team = Find(c, change: false, out var error);
        return team is null ? error! : Pagination.Page(c, team.Members, Render.TeamMember);
    }

    private static ApiResult GetMember(RequestContext c)
    {
        var member = FindMember(c, change: false, out var error);
        return member is null ? error! : ApiResult.Ok(Render.TeamMember(member));
    }

    private static ApiResult AddMember(RequestContext c)
    {
        var team = Find(c, change: true, out var error);
        if (team is null)
        {
            return error!;
        }

        var reasons = new List<string>();
        var userId = c.Str("user_id");
        var user = Guid.TryParse(userId, out var id) ? c.Store.FindUser(id) : null;
        if (string.IsNullOrWhiteSpace(userId))
        {
            reasons.Add("User can't be blank");
        }
        else if (user is null || !c.Org.Members.ContainsKey(user.Id))
        {
            reasons.Add("User is not a member of this organization");
        }
        else if (team.Members.Exists(m => m.User == user))
        {
            reasons.Add("User has already been taken");
        }

        if (!Roles.Contains(c.Str("role")))
        {
            reasons.Add("Role is not included in the list");
        }

        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        var member = new TeamMemberEntity { User = user!, Role = c.Str("role")!, CreatedAt = c.Now };
        team.Members.Add(member);
        return ApiResult.Created(Render.TeamMember(member));
    }

    private static ApiResult UpdateMember(RequestContext c)
    {
        var member = FindMember(c, change: true, out var error);
        if (member is null)
        {
            return error!;
        }

        if (!Roles.Contains(c.Str("role")))
        {
            return ApiResult.ValidationMessage(["Role is not included in the list"]);
        }

        var team = c.Org.Teams.Find(t => t.Members.Contains(member))!;
        if (member.Role == "maintainer" && c.Str("role") != "maintainer" && team.Members.Count(m => m.Role == "maintainer") == 1)
        {
            return ApiResult.ValidationMessage(["A team must have at least one maintainer"]);
        }

        member.Role = c.Str("role")!;
        return ApiResult.Ok(Render.TeamMember(member));
    }

    private static ApiResult RemoveMember(RequestContext c)
    {
        var member = FindMember(c, change: true, out var error);
        if (member is null)
        {
            return error!;
        }

        var team = c.Org.Teams.Find(t => t.Members.Contains(member))!;
        if (member.Role == "maintainer" && team.Members.Count(m => m.Role == "maintainer") == 1)
        {
            return ApiResult.Unprocessable("This member can't be removed: a team must have at least one maintainer.");
        }

        team.Members.Remove(member);
        return ApiResult.NoContent();
    }

    private static TeamPipelineEntity? FindPipelineLink(RequestContext c, bool change, out ApiResult? error)
    {
        var team = Find(c, change, out error);
        var link = team is not null && Guid.TryParse(c.Route("uuid"), out var id) ? team.Pipelines.Find(tp => tp.Pipeline.Id == id) : null;
        error ??= link is null ? ApiResult.NotFound("team pipeline") : null;
        return link;
    }

    private static ApiResult ListPipelines(RequestContext c)
    {
        var team = Find(c, change: false, out var error);
        return team is null ? error! : Pagination.Page(c, team.Pipelines, c.Render.TeamPipeline);
    }

    private static ApiResult GetPipeline(RequestContext c)
    {
        var link = FindPipelineLink(c, change: false, out var error);
        return link is null ? error! : ApiResult.Ok(c.Render.TeamPipeline(link));
    }

    private static ApiResult AddPipeline(RequestContext c)
    {
        var team = Find(c, change: true, out var error);
        if (team is null)
        {
            return error!;
        }

        var reasons = new List<string>();
        var pipelineId = c.Str("pipeline_id");
        var pipeline = Guid.TryParse(pipelineId, out var id) ? c.Org.Pipelines.Find(p => p.Id == id) : null;
        if (string.IsNullOrWhiteSpace(pipelineId))
        {
            reasons.Add("Pipeline can't be blank");
        }
        else if (pipeline is null)
        {
            reasons.Add("Pipeline is not a pipeline of this organization");
        }
        else if (team.Pipelines.Exists(tp => tp.Pipeline == pipeline))
        {
            reasons.Add("Pipeline has already been taken");
        }

        if (!AccessLevels.Contains(c.Str("access_level")))
        {
            reasons.Add("Access level is not included in the list");
        }

        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        var link = new TeamPipelineEntity { Pipeline = pipeline!, AccessLevel = c.Str("access_level")!, CreatedAt = c.Now };
        team.Pipelines.Add(link);
        return ApiResult.Created(c.Render.TeamPipeline(link));
    }

    private static ApiResult UpdatePipeline(RequestContext c)
    {
        var link = FindPipelineLink(c, change: true, out var error);
        if (link is null)
        {
            return error!;
        }

        if (!AccessLevels.Contains(c.Str("access_level")))
        {
            return ApiResult.ValidationMessage(["Access level is not included in the list"]);
        }

        link.AccessLevel = c.Str("access_level")!;
        return ApiResult.Ok(c.Render.TeamPipeline(link));
    }

    private static ApiResult RemovePipeline(RequestContext c)
    {
        var link = FindPipelineLink(c, change: true, out var error);
        if (link is null)
        {
            return error!;
        }

        var teams = c.Org.Teams.Where(t => t.Pipelines.Exists(tp => tp.Pipeline == link.Pipeline)).ToList();
        if (c.Org.TeamsEnabled && teams.Count == 1)
        {
            return ApiResult.Unprocessable("This pipeline can't be removed from its only team: pipelines must belong to a team.");
        }

        teams.Find(t => t.Pipelines.Contains(link))!.Pipelines.Remove(link);
        return ApiResult.NoContent();
    }
}
