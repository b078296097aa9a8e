using System.Globalization;
using System.Text.Json.Nodes;
using Kiteflow.Sandbox.State;

namespace Kiteflow.Sandbox.Api;

/// <summary>
/// Writes entities as Buildkite's REST API shows them, field for field as in the documented examples
/// (extra fields Buildkite also sends are kept). One instance serves one request and caches what many
/// builds of a page share.
/// </summary>
internal sealed class Render(Urls urls, RequestContext context)
{
    private readonly Dictionary<PipelineEntity, (int ScheduledBuilds, int RunningBuilds, int ScheduledJobs, int RunningJobs, int WaitingJobs)> _counts = [];
    private readonly Dictionary<PipelineEntity, JsonObject> _pipelineSummaries = [];

    private static readonly (string Key, JsonNode Value)[] ProviderDefaults =
    [
        ("trigger_mode", "code"),
        ("build_pull_requests", true),
        ("pull_request_branch_filter_enabled", false),
        ("skip_builds_for_existing_commits", false),
        ("skip_pull_request_builds_for_existing_commits", true),
        ("build_pull_request_ready_for_review", false),
        ("build_pull_request_labels_changed", false),
        ("build_pull_request_forks", false),
        ("prefix_pull_request_fork_branch_names", true),
        ("build_branches", true),
        ("build_tags", false),
        ("cancel_deleted_branch_builds", false),
        ("publish_commit_status", true),
        ("publish_commit_status_per_step", false),
        ("separate_pull_request_statuses", false),
        ("publish_blocked_as_pending", false),
        ("use_step_key_as_commit_status", false),
        ("filter_enabled", false),
    ];

    private static string OrgPath(OrganizationEntity org) => $"/organizations/{org.Slug}";

    public static string PipelinePath(PipelineEntity p) => $"/organizations/{p.Organization.Slug}/pipelines/{p.Slug}";

    public JsonObject User(UserEntity user) => new()
    {
        ["id"] = user.Id.ToString(),
        ["graphql_id"] = Formats.GraphQlId("User", user.Id),
        ["name"] = user.Name,
        ["email"] = user.Email,
        ["avatar_url"] = $"https://www.gravatar.com/avatar/{user.Id:N}",
        ["created_at"] = Formats.Time(user.CreatedAt),
    };

    public JsonObject Organization(OrganizationEntity org) => new()
    {
        ["id"] = org.Id.ToString(),
        ["graphql_id"] = Formats.GraphQlId("Organization", org.Id),
        ["url"] = urls.Api(OrgPath(org)),
        ["web_url"] = Urls.WebPage($"/{org.Slug}"),
        ["name"] = org.Name,
        ["slug"] = org.Slug,
        ["pipelines_url"] = urls.Api(OrgPath(org) + "/pipelines"),
        ["agents_url"] = urls.Api(OrgPath(org) + "/agents"),
        ["emojis_url"] = urls.Api(OrgPath(org) + "/emojis"),
        ["created_at"] = Formats.Time(org.CreatedAt),
    };

    public JsonObject Pipeline(PipelineEntity p)
    {
        var summary = PipelineSummary(p).DeepClone().AsObject();
        summary["cluster_url"] = p.ClusterId is null ? null : urls.Api($"{OrgPath(p.Organization)}/clusters/{p.ClusterId}");
        summary["pipeline_template_uuid"] = p.PipelineTemplateUuid;
        summary["allow_rebuilds"] = p.AllowRebuilds;
        summary["created_by"] = User(p.CreatedBy);
        summary["archived_at"] = Formats.Time(p.ArchivedAt);
        summary["env"] = p.Env.DeepClone();
        summary["tags"] = p.Tags?.DeepClone();
        summary["emoji"] = p.Emoji;
        summary["color"] = p.Color;
        summary["default_command_step_timeout"] = p.DefaultCommandStepTimeout;
        summary["maximum_command_step_timeout"] = p.MaximumCommandStepTimeout;
        summary["configuration"] = p.Configuration;
        summary["steps"] = Steps(p);
        return summary;
    }

    /// <summary>The pipeline as a build embeds it.</summary>
    public JsonObject PipelineSummary(PipelineEntity p)
    {
        if (_pipelineSummaries.TryGetValue(p, out var cached))
        {
            return cached;
        }

        var path = PipelinePath(p);
        var counts = Counts(p);
        var summary = new JsonObject
        {
            ["id"] = p.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("Pipeline", p.Id),
            ["url"] = urls.Api(path),
            ["web_url"] = Urls.WebPage($"/{p.Organization.Slug}/{p.Slug}"),
            ["name"] = p.Name,
            ["description"] = p.Description,
            ["slug"] = p.Slug,
            ["repository"] = p.Repository,
            ["cluster_id"] = p.ClusterId?.ToString(),
            ["branch_configuration"] = p.BranchConfiguration,
            ["default_branch"] = p.DefaultBranch,
            ["provider"] = Provider(p),
            ["skip_queued_branch_builds"] = p.SkipQueuedBranchBuilds,
            ["skip_queued_branch_builds_filter"] = p.SkipQueuedBranchBuildsFilter,
            ["cancel_running_branch_builds"] = p.CancelRunningBranchBuilds,
            ["cancel_running_branch_builds_filter"] = p.CancelRunningBranchBuildsFilter,
            ["builds_url"] = urls.Api(path + "/builds"),
            ["badge_url"] = $"https://badge.buildkite.com/{p.BadgeToken}.svg",
            ["created_at"] = Formats.Time(p.CreatedAt),
            ["scheduled_builds_count"] = counts.ScheduledBuilds,
            ["running_builds_count"] = counts.RunningBuilds,
            ["scheduled_jobs_count"] = counts.ScheduledJobs,
            ["running_jobs_count"] = counts.RunningJobs,
            ["waiting_jobs_count"] = counts.WaitingJobs,
            ["visibility"] = p.Visibility,
        };
        _pipelineSummaries[p] = summary;
        return summary;
    }

    private (int ScheduledBuilds, int RunningBuilds, int ScheduledJobs, int RunningJobs, int WaitingJobs) Counts(PipelineEntity p)
    {
        if (_counts.TryGetValue(p, out var counts))
        {
            return counts;
        }

        foreach (var build in p.Builds)
        {
            if (build.State is not ("scheduled" or "running" or "failing"))
            {
                continue;
            }

            counts.ScheduledBuilds += build.State == "scheduled" ? 1 : 0;
            counts.RunningBuilds += build.State is "running" or "failing" ? 1 : 0;
            foreach (var job in build.Jobs)
            {
                counts.ScheduledJobs += job.State == "scheduled" ? 1 : 0;
                counts.RunningJobs += job.State == "running" ? 1 : 0;
                counts.WaitingJobs += job.State == "waiting" ? 1 : 0;
            }
        }

        _counts[p] = counts;
        return counts;
    }

    private static JsonObject Provider(PipelineEntity p)
    {
        var (id, repository) = Providers.Detect(p.Repository);
        var settings = p.ProviderSettings?.DeepClone().AsObject() ?? [];
        if (id != "git")
        {
            // A GitHub-style provider's settings with Buildkite's defaults, unless the pipeline set them.
            foreach (var (key, value) in ProviderDefaults)
            {
                settings.TryAdd(key, value.DeepClone());
            }

            settings.TryAdd("repository", repository);
        }

        return new JsonObject
        {
            ["id"] = id,
            ["settings"] = settings,
            ["webhook_url"] = $"https://webhook.buildkite.com/deliver/{p.WebhookToken}",
        };
    }

    private static JsonArray Steps(PipelineEntity p)
    {
        var array = new JsonArray();
        if (p.Configuration is null && p.VisualSteps is not null)
        {
            foreach (var node in p.VisualSteps)
            {
                if (node is JsonObject given)
                {
                    array.Add(VisualStep(given));
                }
            }

            return array;
        }

        foreach (var step in StepParser.FromYaml(p.Configuration))
        {
            array.Add(step.Type switch
            {
                "waiter" => new JsonObject { ["type"] = "waiter" },
                "manual" => new JsonObject { ["type"] = "manual", ["label"] = step.Name },
                "trigger" => new JsonObject { ["type"] = "trigger", ["label"] = step.Name },
                _ => ScriptStep(step.Name, step.Command, null, null, null, new JsonArray([.. step.AgentQueryRules.Select(r => (JsonNode?)r)]), null),
            });
        }

        return array;
    }

    private static JsonObject VisualStep(JsonObject given)
    {
        var type = given["type"]?.ToString() ?? "script";
        return type switch
        {
            "waiter" => new JsonObject { ["type"] = "waiter" },
            "manual" => new JsonObject { ["type"] = "manual", ["label"] = given["label"]?.DeepClone() },
            "trigger" => new JsonObject
            {
                ["type"] = "trigger",
                ["label"] = given["label"]?.DeepClone(),
                ["pipeline"] = given["trigger_project_slug"]?.DeepClone(),
                ["build"] = new JsonObject
                {
                    ["message"] = given["trigger_message"]?.DeepClone(),
                    ["branch"] = given["trigger_branch"]?.DeepClone(),
                    ["commit"] = given["trigger_commit"]?.DeepClone(),
                    ["env"] = given["trigger_env"]?.DeepClone(),
                },
                ["async"] = given["trigger_async"]?.DeepClone() ?? false,
                ["branch_configuration"] = given["branch_configuration"]?.DeepClone(),
                ["concurrency"] = null,
                ["parallelism"] = null,
            },
            _ => ScriptStep(
                given["name"]?.ToString(),
                given["command"]?.ToString(),
                given["artifact_paths"]?.ToString(),
                given["branch_configuration"]?.ToString(),
                given["env"]?.DeepClone() as JsonObject,
                given["agent_query_rules"]?.DeepClone() as JsonArray ?? [],
                given["timeout_in_minutes"]?.DeepClone()),
        };
    }

    private static JsonObject ScriptStep(
        string? name, string? command, string? artifactPaths, string? branches, JsonObject? env, JsonArray rules, JsonNode? timeout) => new()
    {
        ["type"] = "script",
        ["name"] = name,
        ["command"] = command,
        ["artifact_paths"] = artifactPaths,
        ["branch_configuration"] = branches,
        ["env"] = env ?? [],
        ["timeout_in_minutes"] = timeout,
        ["agent_query_rules"] = rules,
        ["concurrency"] = null,
        ["parallelism"] = null,
    };

    public JsonObject Build(BuildEntity b, bool includeJobs = true, bool includePipeline = true)
    {
        var path = $"{PipelinePath(b.Pipeline)}/builds/{b.Number}";
        var build = new JsonObject
        {
            ["id"] = b.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("Build", b.Id),
            ["url"] = urls.Api(path),
            ["web_url"] = Urls.WebPage($"/{b.Pipeline.Organization.Slug}/{b.Pipeline.Slug}/builds/{b.Number}"),
            ["number"] = b.Number,
            ["state"] = b.State,
            ["cancel_reason"] = b.CancelReason,
            ["blocked"] = b.Jobs.Exists(j => j.Type == "manual" && j.State == "blocked") && b.State is "passed" or "blocked",
            ["message"] = b.Message,
            ["commit"] = b.Commit,
            ["branch"] = b.Branch,
            ["env"] = b.Env.DeepClone(),
            ["source"] = b.Source,
            ["author"] = b.Author?.DeepClone(),
            ["creator"] = User(b.Creator),
        };
        if (includeJobs)
        {
            build["jobs"] = new JsonArray([.. b.Jobs.Select(j => (JsonNode?)Job(j))]);
        }

        build["created_at"] = Formats.Time(b.CreatedAt);
        build["scheduled_at"] = Formats.Time(b.ScheduledAt);
        build["started_at"] = Formats.Time(b.StartedAt);
        build["failing_at"] = Formats.Time(b.FailingAt);
        build["finished_at"] = Formats.Time(b.FinishedAt);
        var meta = new JsonObject();
        foreach (var (key, value) in b.MetaData)
        {
            meta[key] = value;
        }

        build["meta_data"] = meta;
        build["pull_request"] = b.PullRequest?.DeepClone();
        build["merge_queue"] = null;
        build["rebuilt_from"] = b.RebuiltFrom is null ? null : new JsonObject
        {
            ["id"] = b.RebuiltFrom.Id.ToString(),
            ["number"] = b.RebuiltFrom.Number,
            ["url"] = urls.Api($"{PipelinePath(b.RebuiltFrom.Pipeline)}/builds/{b.RebuiltFrom.Number}"),
        };
        if (b.TriggeredFrom is { } trigger)
        {
            build["triggered_from"] = new JsonObject
            {
                ["build_id"] = trigger.Build.Id.ToString(),
                ["build_number"] = trigger.Build.Number,
                ["build_pipeline_slug"] = trigger.Build.Pipeline.Slug,
            };
        }

        if (includePipeline)
        {
            build["pipeline"] = PipelineSummary(b.Pipeline).DeepClone();
        }

        return build;
    }

    public JsonObject Job(JobEntity j)
    {
        var b = j.Build;
        var buildPath = $"{PipelinePath(b.Pipeline)}/builds/{b.Number}";
        var webBuild = Urls.WebPage($"/{b.Pipeline.Organization.Slug}/{b.Pipeline.Slug}/builds/{b.Number}");
        switch (j.Type)
        {
            case "waiter":
                return new JsonObject { ["id"] = j.Id.ToString(), ["graphql_id"] = Formats.GraphQlId("Job", j.Id), ["type"] = "waiter" };
            case "manual":
                return new JsonObject
                {
                    ["id"] = j.Id.ToString(),
                    ["graphql_id"] = Formats.GraphQlId("Job", j.Id),
                    ["type"] = "manual",
                    ["label"] = j.Label,
                    ["state"] = j.State,
                    ["web_url"] = null,
                    ["unblocked_by"] = j.UnblockedBy is null ? null : User(j.UnblockedBy),
                    ["unblocked_at"] = Formats.Time(j.UnblockedAt),
                    ["unblockable"] = j.State == "blocked" && b.State is not ("canceled" or "canceling"),
                    ["unblock_url"] = $"{webBuild}#{j.Id}",
                };
            case "trigger":
                return new JsonObject
                {
                    ["id"] = j.Id.ToString(),
                    ["graphql_id"] = Formats.GraphQlId("Job", j.Id),
                    ["type"] = "trigger",
                    ["name"] = j.Name,
                    ["state"] = j.State,
                    ["triggered_build"] = null,
                };
            default:
                break;
        }

        var cluster = b.Pipeline.ClusterId;
        return new JsonObject
        {
            ["id"] = j.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("Job", j.Id),
            ["type"] = "script",
            ["name"] = j.Name,
            ["step_key"] = j.StepKey,
            ["step"] = new JsonObject { ["id"] = j.StepId.ToString(), ["signature"] = null },
            ["priority"] = new JsonObject { ["number"] = j.Priority },
            ["agent_query_rules"] = j.AgentQueryRules.DeepClone(),
            ["state"] = j.State,
            ["build_url"] = webBuild,
            ["web_url"] = $"{webBuild}#{j.Id}",
            ["log_url"] = urls.Api($"{buildPath}/jobs/{j.Id}/log"),
            ["raw_log_url"] = urls.Api($"{buildPath}/jobs/{j.Id}/log.txt"),
            ["artifacts_url"] = urls.Api($"{buildPath}/jobs/{j.Id}/artifacts"),
            ["command"] = j.Command,
            ["soft_failed"] = false,
            ["exit_status"] = j.ExitStatus,
            ["artifact_paths"] = "",
            ["agent"] = null,
            ["created_at"] = Formats.Time(j.CreatedAt),
            ["scheduled_at"] = Formats.Time(j.ScheduledAt),
            ["runnable_at"] = Formats.Time(j.RunnableAt),
            ["started_at"] = Formats.Time(j.StartedAt),
            ["finished_at"] = Formats.Time(j.FinishedAt),
            ["concurrency_wait_time_ms"] = null,
            ["retried"] = j.Retried,
            ["retried_in_job_id"] = j.RetriedInJobId?.ToString(),
            ["retries_count"] = j.RetriesCount,
            ["retry_source"] = null,
            ["retry_type"] = j.RetryType,
            ["parallel_group_index"] = null,
            ["parallel_group_total"] = null,
            ["matrix"] = null,
            ["cluster_id"] = cluster?.ToString(),
            ["cluster_url"] = cluster is null ? null : urls.Api($"{OrgPath(b.Pipeline.Organization)}/clusters/{cluster}"),
            ["cluster_queue_id"] = null,
            ["cluster_queue_url"] = null,
        };
    }

    public static JsonObject Annotation(AnnotationEntity a) => new()
    {
        ["id"] = a.Id.ToString(),
        ["context"] = a.Context,
        ["style"] = a.Style,
        ["scope"] = a.Job is null ? "build" : "job",
        ["job_id"] = a.Job?.Id.ToString(),
        ["priority"] = a.Priority,
        ["body_html"] = a.BodyHtml,
        ["created_at"] = Formats.Time(a.CreatedAt),
        ["updated_at"] = Formats.Time(a.UpdatedAt),
    };

    public JsonObject Agent(AgentEntity a)
    {
        var org = context.Org;
        return new JsonObject
        {
            ["id"] = a.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("Agent", a.Id),
            ["url"] = urls.Api($"{OrgPath(org)}/agents/{a.Id}"),
            ["web_url"] = Urls.WebPage($"/organizations/{org.Slug}/agents/{a.Id}"),
            ["name"] = a.Name,
            ["connection_state"] = a.ConnectionState,
            ["hostname"] = a.Hostname,
            ["ip_address"] = a.IpAddress,
            ["user_agent"] = $"buildkite-agent/{a.Version} (linux; amd64)",
            ["version"] = a.Version,
            ["creator"] = User(a.Creator),
            ["created_at"] = Formats.Time(a.CreatedAt),
            ["job"] = null,
            ["last_job_finished_at"] = null,
            ["priority"] = 0,
            ["meta_data"] = a.MetaData.DeepClone(),
            ["cluster_id"] = a.ClusterId?.ToString(),
            ["queue_id"] = a.QueueId?.ToString(),
            ["paused"] = a.Paused,
            ["paused_at"] = Formats.Time(a.PausedAt),
            ["paused_by"] = a.PausedBy is null ? null : User(a.PausedBy),
            ["paused_note"] = a.PausedNote,
            ["paused_timeout_in_minutes"] = a.PausedTimeoutInMinutes,
        };
    }

    public JsonObject Cluster(ClusterEntity c)
    {
        var org = context.Org;
        var path = $"{OrgPath(org)}/clusters/{c.Id}";
        return new JsonObject
        {
            ["id"] = c.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("Cluster", c.Id),
            ["default_queue_id"] = c.DefaultQueueId?.ToString(),
            ["name"] = c.Name,
            ["description"] = c.Description,
            ["emoji"] = c.Emoji,
            ["color"] = c.Color,
            ["maintainers"] = c.Maintainers.DeepClone(),
            ["url"] = urls.Api(path),
            ["web_url"] = Urls.WebPage($"/organizations/{org.Slug}/clusters/{c.Id}"),
            ["default_queue_url"] = c.DefaultQueueId is null ? null : urls.Api($"{path}/queues/{c.DefaultQueueId}"),
            ["queues_url"] = urls.Api($"{path}/queues"),
            ["created_at"] = Formats.Time(c.CreatedAt),
            ["created_by"] = User(c.CreatedBy),
            ["hosted_git_mirror_enabled"] = c.HostedGitMirrorEnabled,
            ["hosted_container_cache_enabled"] = c.HostedContainerCacheEnabled,
        };
    }

    public JsonObject Queue(QueueEntity q)
    {
        var org = context.Org;
        var clusterPath = $"{OrgPath(org)}/clusters/{q.Cluster.Id}";
        var queue = new JsonObject
        {
            ["id"] = q.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("ClusterQueue", q.Id),
            ["key"] = q.Key,
            ["description"] = q.Description,
            ["url"] = urls.Api($"{clusterPath}/queues/{q.Id}"),
            ["web_url"] = Urls.WebPage($"/organizations/{org.Slug}/clusters/{q.Cluster.Id}/queues/{q.Id}"),
            ["cluster_url"] = urls.Api(clusterPath),
            ["retry_agent_affinity"] = q.RetryAgentAffinity,
            ["dispatch_paused"] = q.DispatchPaused,
            ["dispatch_paused_by"] = q.DispatchPausedBy is null ? null : User(q.DispatchPausedBy),
            ["dispatch_paused_at"] = Formats.Time(q.DispatchPausedAt),
            ["dispatch_paused_note"] = q.DispatchPausedNote,
            ["created_at"] = Formats.Time(q.CreatedAt),
            ["created_by"] = User(q.CreatedBy),
            ["hosted"] = q.Hosted,
        };
        if (q.InstanceShape is { } shape)
        {
            var parsed = InstanceShapes.Parse(shape)!;
            queue["hosted_agents"] = new JsonObject
            {
                ["instance_shape"] = new JsonObject
                {
                    ["machine_type"] = parsed.MachineType,
                    ["architecture"] = parsed.Architecture,
                    ["cpu"] = parsed.Cpu,
                    ["memory"] = parsed.Memory,
                    ["name"] = shape,
                },
                ["platform_settings"] = parsed.MachineType == "macos"
                    ? new JsonObject { ["macos"] = new JsonObject { ["xcode_version"] = null } }
                    : new JsonObject { ["linux"] = new JsonObject { ["agent_image_ref"] = q.AgentImageRef } },
            };
        }

        return queue;
    }

    public JsonObject Team(TeamEntity t)
    {
        var org = context.Org;
        return new JsonObject
        {
            ["id"] = t.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("Team", t.Id),
            ["slug"] = t.Slug,
            ["url"] = urls.Api($"{OrgPath(org)}/teams/{t.Id}"),
            ["web_url"] = Urls.WebPage($"/organizations/{org.Slug}/teams/{t.Slug}"),
            ["name"] = t.Name,
            ["description"] = t.Description,
            ["privacy"] = t.Privacy,
            ["is_default_team"] = t.IsDefaultTeam,
            ["default_member_role"] = t.DefaultMemberRole,
            ["members_can_create_pipelines"] = t.MembersCanCreatePipelines,
            ["members_can_create_suites"] = t.MembersCanCreateSuites,
            ["members_can_create_registries"] = t.MembersCanCreateRegistries,
            ["members_can_destroy_registries"] = t.MembersCanDestroyRegistries,
            ["members_can_destroy_packages"] = t.MembersCanDestroyPackages,
            ["created_at"] = Formats.Time(t.CreatedAt),
            ["created_by"] = User(t.CreatedBy),
        };
    }

    public static JsonObject TeamMember(TeamMemberEntity m) => new()
    {
        ["role"] = m.Role,
        ["created_at"] = Formats.Time(m.CreatedAt),
        ["user_id"] = m.User.Id.ToString(),
        ["user_name"] = m.User.Name,
    };

    public JsonObject TeamPipeline(TeamPipelineEntity tp) => new()
    {
        ["access_level"] = tp.AccessLevel,
        ["created_at"] = Formats.Time(tp.CreatedAt),
        ["pipeline_id"] = tp.Pipeline.Id.ToString(),
        ["pipeline_url"] = urls.Api(PipelinePath(tp.Pipeline)),
    };

    public JsonObject Schedule(ScheduleEntity s, DateTimeOffset now)
    {
        var pipelinePath = PipelinePath(s.Pipeline);
        return new JsonObject
        {
            ["id"] = s.Id.ToString(),
            ["graphql_id"] = Formats.GraphQlId("PipelineSchedule", s.Id),
            ["url"] = urls.Api($"{pipelinePath}/schedules/{s.Id}"),
            ["label"] = s.Label,
            ["cronline"] = s.Cronline,
            ["message"] = s.Message,
            ["commit"] = s.Commit,
            ["branch"] = s.Branch,
            ["env"] = s.Env.DeepClone(),
            ["enabled"] = s.Enabled,
            ["next_build_at"] = s.Enabled ? Formats.Time(Cron.Next(s.Cronline, now)) : null,
            ["failed_message"] = null,
            ["failed_at"] = null,
            ["created_at"] = Formats.Time(s.CreatedAt),
            ["created_by"] = User(s.CreatedBy),
            ["pipeline"] = new JsonObject
            {
                ["id"] = s.Pipeline.Id.ToString(),
                ["slug"] = s.Pipeline.Slug,
                ["url"] = urls.Api(pipelinePath),
            },
        };
    }

    public static JsonObject AccessToken(TokenEntity t) => new()
    {
        ["uuid"] = t.Id.ToString(),
        ["scopes"] = new JsonArray([.. t.Scopes.Select(s => (JsonNode?)s)]),
        ["description"] = t.Description,
        ["created_at"] = Formats.SpacedTime(t.CreatedAt),
        ["expires_at"] = Formats.SpacedTime(t.ExpiresAt),
        ["user"] = new JsonObject { ["name"] = t.User.Name, ["email"] = t.User.Email },
    };

    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
