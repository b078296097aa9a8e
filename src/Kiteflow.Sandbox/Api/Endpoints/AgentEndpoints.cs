using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Agents: list, get, stop, pause, resume. Changing an agent takes an administrator.</summary>
internal static class AgentEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        const string agents = "/organizations/{org}/agents";
        api.Map(routes, "GET", agents, Scopes.ReadAgents, List);
        api.Map(routes, "GET", agents + "/{id}", Scopes.ReadAgents, Get);
        api.Map(routes, "PUT", agents + "/{id}/stop", Scopes.WriteAgents, Stop);
        api.Map(routes, "PUT", agents + "/{id}/pause", Scopes.WriteAgents, Pause);
        api.Map(routes, "PUT", agents + "/{id}/resume", Scopes.WriteAgents, Resume);
    }

    private static ApiResult List(RequestContext c)
    {
        var name = c.Query("name");
        var hostname = c.Query("hostname");
        var version = c.Query("version");
        var agents = c.Org.Agents.Where(a =>
            (name is null || a.Name.Contains(name, StringComparison.OrdinalIgnoreCase))
            && (hostname is null || a.Hostname.Contains(hostname, StringComparison.OrdinalIgnoreCase))
            && (version is null || a.Version.StartsWith(version, StringComparison.Ordinal))).ToList();
        return Pagination.Page(c, agents, c.Render.Agent);
    }

    private static AgentEntity? Find(RequestContext c, bool change, out ApiResult? error)
    {
        var agent = Guid.TryParse(c.Route("id"), out var id) ? c.Org.Agents.Find(a => a.Id == id) : null;
        error = agent is null ? ApiResult.NotFound("agent") : change && !c.IsAdmin ? ApiResult.Forbidden() : null;
        return error is null ? agent : null;
    }

    private static ApiResult Get(RequestContext c)
    {
        var agent = Find(c, change: false, out var error);
        return agent is null ? error! : ApiResult.Ok(c.Render.Agent(agent));
    }

    private static ApiResult Stop(RequestContext c)
    {
        var agent = Find(c, change: true, out var error);
        if (agent is null)
        {
            return error!;
        }

        if (agent.ConnectionState != "connected")
        {
            return ApiResult.Message(StatusCodes.Status400BadRequest, "Can only stop connected agents");
        }

        // A forced stop ends at once; a graceful one lets a running job finish first, and the sandbox runs none.
        agent.ConnectionState = c.Bool("force") == false ? "stopping" : "stopped";
        return ApiResult.NoContent();
    }

    private static ApiResult Pause(RequestContext c)
    {
        var agent = Find(c, change: true, out var error);
        if (agent is null)
        {
            return error!;
        }

        if (agent.ConnectionState != "connected")
        {
            return ApiResult.Unprocessable("Only connected agents may be paused");
        }

        if (agent.Paused)
        {
            return ApiResult.Unprocessable("Agent is already paused");
        }

        agent.Paused = true;
        agent.PausedAt = c.Now;
        agent.PausedBy = c.User;
        agent.PausedNote = c.Str("note");
        agent.PausedTimeoutInMinutes = c.Int("timeout_in_minutes");
        return ApiResult.NoContent();
    }

    private static ApiResult Resume(RequestContext c)
    {
        var agent = Find(c, change: true, out var error);
        if (agent is null)
        {
            return error!;
        }

        if (!agent.Paused)
        {
            return ApiResult.Unprocessable("Agent is not paused");
        }

        agent.Paused = false;
        agent.PausedAt = null;
        agent.PausedBy = null;
        agent.PausedNote = null;
        agent.PausedTimeoutInMinutes = null;
        return ApiResult.NoContent();
    }
}
