using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kiteflow.Sandbox.Auth;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api.Endpoints;

/// <summary>Clusters and their queues. Changes take an administrator; update is PUT (docs) or PATCH (go-buildkite).</summary>
internal static partial class ClusterEndpoints
{
    public const string InstanceShapeChange = "Instance shape cannot be changed to ";
    private static readonly string[] Affinities = ["prefer-warmest", "prefer-newest"];

    public static void Map(IEndpointRouteBuilder routes, ApiRunner api)
    {
        const string clusters = "/organizations/{org}/clusters";
        const string queues = clusters + "/{cluster}/queues";
        api.Map(routes, "GET", clusters, Scopes.ReadClusters, c => Pagination.Page(c, c.Org.Clusters, c.Render.Cluster));
        api.Map(routes, "POST", clusters, Scopes.WriteClusters, Create);
        api.Map(routes, "GET", clusters + "/{cluster}", Scopes.ReadClusters, Get);
        api.Map(routes, "PUT", clusters + "/{cluster}", Scopes.WriteClusters, Update);
        api.Map(routes, "PATCH", clusters + "/{cluster}", Scopes.WriteClusters, Update);
        api.Map(routes, "DELETE", clusters + "/{cluster}", Scopes.WriteClusters, Delete);
        api.Map(routes, "GET", queues, Scopes.ReadClusters, ListQueues);
        api.Map(routes, "POST", queues, Scopes.WriteClusters, CreateQueue);
        api.Map(routes, "GET", queues + "/{id}", Scopes.ReadClusters, GetQueue);
        api.Map(routes, "PUT", queues + "/{id}", Scopes.WriteClusters, UpdateQueue);
        api.Map(routes, "PATCH", queues + "/{id}", Scopes.WriteClusters, UpdateQueue);
        api.Map(routes, "DELETE", queues + "/{id}", Scopes.WriteClusters, DeleteQueue);
        api.Map(routes, "POST", queues + "/{id}/pause_dispatch", Scopes.WriteClusters, PauseQueue);
        api.Map(routes, "POST", queues + "/{id}/resume_dispatch", Scopes.WriteClusters, ResumeQueue);
    }

    private static ClusterEntity? Find(RequestContext c, bool change, out ApiResult? error)
    {
        var cluster = Guid.TryParse(c.Route("cluster"), out var id) ? c.Org.Clusters.Find(k => k.Id == id) : null;
        error = cluster is null ? ApiResult.NotFound("cluster") : change && !c.IsAdmin ? ApiResult.Forbidden() : null;
        return error is null ? cluster : null;
    }

    private static QueueEntity? FindQueue(RequestContext c, bool change, out ApiResult? error)
    {
        var cluster = Find(c, change, out error);
        if (cluster is null)
        {
            return null;
        }

        var queue = Guid.TryParse(c.Route("id"), out var id) ? cluster.Queues.Find(q => q.Id == id) : null;
        error = queue is null ? ApiResult.NotFound("queue") : null;
        return queue;
    }

    private static ApiResult Get(RequestContext c)
    {
        var cluster = Find(c, change: false, out var error);
        return cluster is null ? error! : ApiResult.Ok(c.Render.Cluster(cluster));
    }

    private static ApiResult Create(RequestContext c)
    {
        if (!c.IsAdmin)
        {
            return ApiResult.Forbidden();
        }

        var reasons = new List<string>();
        var name = c.Str("name");
        if (string.IsNullOrWhiteSpace(name))
        {
            reasons.Add("Name can't be blank");
        }
        else if (c.Org.Clusters.Exists(k => string.Equals(k.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            reasons.Add("Name has already been taken");
        }

        if (c.Has("maintainers") && c.Body["maintainers"] is not (null or JsonObject))
        {
            reasons.Add("Maintainers must be an object of users and teams");
        }

        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        var cluster = new ClusterEntity
        {
            Id = c.Store.Ids.NewGuid(),
            Name = name!.Trim(),
            Description = c.Str("description"),
            Emoji = c.Str("emoji"),
            Color = c.Str("color"),
            CreatedBy = c.User,
            CreatedAt = c.Now,
        };
        if (c.Body["maintainers"] is JsonObject maintainers)
        {
            cluster.Maintainers = new JsonObject
            {
                ["users"] = maintainers["users"]?.DeepClone() ?? new JsonArray(),
                ["teams"] = maintainers["teams"]?.DeepClone() ?? new JsonArray(),
            };
        }

        c.Org.Clusters.Add(cluster);
        return ApiResult.Created(c.Render.Cluster(cluster));
    }

    private static ApiResult Update(RequestContext c)
    {
        var cluster = Find(c, change: true, out var error);
        if (cluster is null)
        {
            return error!;
        }

        var reasons = new List<string>();
        if (c.Has("name"))
        {
            var name = c.Str("name");
            if (string.IsNullOrWhiteSpace(name))
            {
                reasons.Add("Name can't be blank");
            }
            else if (c.Org.Clusters.Exists(k => k != cluster && string.Equals(k.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)))
            {
                reasons.Add("Name has already been taken");
            }
        }

        QueueEntity? defaultQueue = null;
        if (c.Has("default_queue_id") && c.Str("default_queue_id") is { } queueId)
        {
            defaultQueue = Guid.TryParse(queueId, out var qid) ? cluster.Queues.Find(q => q.Id == qid) : null;
            if (defaultQueue is null)
            {
                reasons.Add("Default queue must be one of this cluster's queues");
            }
        }

        var hosted = cluster.Queues.Exists(q => q.Hosted);
        foreach (var (field, label, current) in new[]
        {
            ("hosted_git_mirror_enabled", "Hosted git mirror enabled", cluster.HostedGitMirrorEnabled),
            ("hosted_container_cache_enabled", "Hosted container cache enabled", cluster.HostedContainerCacheEnabled),
        })
        {
            if (!c.Has(field))
            {
                continue;
            }

            if (!c.IsStrictBool(field))
            {
                reasons.Add($"{label} must be true or false");
            }
            else if (c.Bool(field) != current && !hosted)
            {
                reasons.Add($"{label} can only be changed on a cluster with hosted queues");
            }
        }

        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        cluster.Name = c.Str("name")?.Trim() ?? cluster.Name;
        cluster.Description = c.Has("description") ? c.Str("description") : cluster.Description;
        cluster.Emoji = c.Has("emoji") ? c.Str("emoji") : cluster.Emoji;
        cluster.Color = c.Has("color") ? c.Str("color") : cluster.Color;
        cluster.DefaultQueueId = defaultQueue?.Id ?? cluster.DefaultQueueId;
        cluster.HostedGitMirrorEnabled = c.Bool("hosted_git_mirror_enabled") ?? cluster.HostedGitMirrorEnabled;
        cluster.HostedContainerCacheEnabled = c.Bool("hosted_container_cache_enabled") ?? cluster.HostedContainerCacheEnabled;
        return ApiResult.Ok(c.Render.Cluster(cluster));
    }

    private static ApiResult Delete(RequestContext c)
    {
        var cluster = Find(c, change: true, out var error);
        if (cluster is null)
        {
            return error!;
        }

        if (c.Org.Pipelines.Exists(p => p.ClusterId == cluster.Id))
        {
            return ApiResult.Unprocessable("This cluster can't be deleted while pipelines use it; move them to another cluster first.");
        }

        // Deleting a cluster deletes its queues, and its agents disconnect.
        c.Org.Clusters.Remove(cluster);
        c.Org.Agents.RemoveAll(a => a.ClusterId == cluster.Id);
        return ApiResult.NoContent();
    }

    private static ApiResult ListQueues(RequestContext c)
    {
        var cluster = Find(c, change: false, out var error);
        return cluster is null ? error! : Pagination.Page(c, cluster.Queues, c.Render.Queue);
    }

    private static ApiResult GetQueue(RequestContext c)
    {
        var queue = FindQueue(c, change: false, out var error);
        return queue is null ? error! : ApiResult.Ok(c.Render.Queue(queue));
    }

    private static ApiResult CreateQueue(RequestContext c)
    {
        var cluster = Find(c, change: true, out var error);
        if (cluster is null)
        {
            return error!;
        }

        var reasons = new List<string>();
        var key = c.Str("key");
        if (string.IsNullOrWhiteSpace(key))
        {
            reasons.Add("Key can't be blank");
        }
        else if (!QueueKey().IsMatch(key))
        {
            reasons.Add("Key is invalid");
        }
        else if (cluster.Queues.Exists(q => string.Equals(q.Key, key, StringComparison.OrdinalIgnoreCase)))
        {
            reasons.Add("Key has already been taken");
        }

        if (c.Has("retry_agent_affinity") && !Affinities.Contains(c.Str("retry_agent_affinity")))
        {
            reasons.Add("Retry agent affinity is not included in the list");
        }

        string? shape = null;
        if (c.Has("hostedAgents"))
        {
            shape = (c.Body["hostedAgents"] as JsonObject)?["instanceShape"]?.ToString();
            if (string.IsNullOrWhiteSpace(shape))
            {
                reasons.Add("Instance shape can't be blank");
            }
            else if (InstanceShapes.Parse(shape) is null)
            {
                reasons.Add("Instance shape is invalid");
            }
        }

        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        var queue = new QueueEntity
        {
            Id = c.Store.Ids.NewGuid(),
            Cluster = cluster,
            Key = key!,
            Description = c.Str("description"),
            RetryAgentAffinity = c.Str("retry_agent_affinity") ?? "prefer-warmest",
            InstanceShape = shape,
            CreatedBy = c.User,
            CreatedAt = c.Now,
        };
        cluster.Queues.Add(queue);
        return ApiResult.Created(c.Render.Queue(queue));
    }

    private static ApiResult UpdateQueue(RequestContext c)
    {
        var queue = FindQueue(c, change: true, out var error);
        if (queue is null)
        {
            return error!;
        }

        var reasons = new List<string>();
        if (c.Has("retry_agent_affinity") && !Affinities.Contains(c.Str("retry_agent_affinity")))
        {
            reasons.Add("Retry agent affinity is not included in the list");
        }

        string? shape = queue.InstanceShape;
        string? imageRef = queue.AgentImageRef;
        if (c.Has("hostedAgents"))
        {
            var hostedAgents = c.Body["hostedAgents"] as JsonObject;
            var newShape = hostedAgents?["instanceShape"]?.ToString();
            var newImage = hostedAgents?["agentImageRef"]?.ToString();
            if (!queue.Hosted)
            {
                reasons.Add("Hosted agents can't be configured on a self-hosted queue");
            }
            else if (string.IsNullOrWhiteSpace(newShape))
            {
                reasons.Add("Instance shape can't be blank");
            }
            else if (InstanceShapes.Parse(newShape) is not { } parsed)
            {
                reasons.Add("Instance shape is invalid");
            }
            else if (parsed.MachineType != InstanceShapes.Parse(queue.InstanceShape!)!.MachineType)
            {
                // Worded exactly as the docs quote it, trailing space and all.
                reasons.Add(InstanceShapeChange);
            }
            else if (newImage is not null && parsed.MachineType == "macos")
            {
                reasons.Add("Agent image ref cannot be configured for hosted mac queues");
            }
            else
            {
                shape = newShape;
                imageRef = newImage ?? imageRef;
            }
        }

        if (reasons.Count > 0)
        {
            return ApiResult.ValidationMessage(reasons);
        }

        queue.Description = c.Has("description") ? c.Str("description") : queue.Description;
        queue.RetryAgentAffinity = c.Str("retry_agent_affinity") ?? queue.RetryAgentAffinity;
        queue.InstanceShape = shape;
        queue.AgentImageRef = imageRef;
        return ApiResult.Ok(c.Render.Queue(queue));
    }

    private static ApiResult DeleteQueue(RequestContext c)
    {
        var queue = FindQueue(c, change: true, out var error);
        if (queue is null)
        {
            return error!;
        }

        if (queue.Cluster.DefaultQueueId == queue.Id)
        {
            return ApiResult.Unprocessable("This queue can't be deleted while it is the cluster's default queue.");
        }

        queue.Cluster.Queues.Remove(queue);
        return ApiResult.NoContent();
    }

    private static ApiResult PauseQueue(RequestContext c)
    {
        var queue = FindQueue(c, change: true, out var error);
        if (queue is null)
        {
            return error!;
        }

        if (queue.DispatchPaused)
        {
            return ApiResult.Unprocessable("Cluster queue is already paused");
        }

        queue.DispatchPaused = true;
        queue.DispatchPausedAt = c.Now;
        queue.DispatchPausedBy = c.User;

        // The docs' table names the field "note"; their example and go-buildkite send "dispatch_paused_note": both are read.
        queue.DispatchPausedNote = c.Str("dispatch_paused_note") ?? c.Str("note");
        return ApiResult.Ok(c.Render.Queue(queue));
    }

    private static ApiResult ResumeQueue(RequestContext c)
    {
        var queue = FindQueue(c, change: true, out var error);
        if (queue is null)
        {
            return error!;
        }

        if (!queue.DispatchPaused)
        {
            return ApiResult.Unprocessable("Cluster queue is not paused");
        }

        queue.DispatchPaused = false;
        queue.DispatchPausedAt = null;
        queue.DispatchPausedBy = null;
        queue.DispatchPausedNote = null;
        return ApiResult.Ok(c.Render.Queue(queue));
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,50}$")]
    private static partial Regex QueueKey();
}
