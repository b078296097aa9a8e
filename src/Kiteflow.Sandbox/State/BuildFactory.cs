using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.State;

/// <summary>Makes builds and their jobs, and moves them between states.</summary>
internal static class BuildFactory
{
    public static readonly string[] Finished = ["passed", "failed", "blocked", "canceled", "skipped", "not_run"];

    public static BuildEntity Create(
        SandboxStore store,
        PipelineEntity pipeline,
        UserEntity creator,
        string source,
        string commit,
        string branch,
        string? message,
        JsonObject env,
        Dictionary<string, string> metaData,
        JsonObject? author,
        JsonObject? pullRequest,
        bool cleanCheckout,
        bool ignoreBranchFilters,
        BuildEntity? rebuiltFrom)
    {
        var now = store.Now;
        var build = new BuildEntity
        {
            Id = store.Ids.NewGuid(),
            Pipeline = pipeline,
            Number = pipeline.NextBuildNumber++,
            State = "scheduled",
            Source = source,
            Creator = creator,
            CreatedAt = now,
            ScheduledAt = now,
            Commit = commit,
            Branch = branch,
            Message = message,
            Env = env,
            MetaData = metaData,
            Author = author,
            PullRequest = pullRequest,
            CleanCheckout = cleanCheckout,
            IgnorePipelineBranchFilters = ignoreBranchFilters,
            RebuiltFrom = rebuiltFrom,
        };

        var steps = pipeline.Configuration is null && pipeline.VisualSteps is not null
            ? StepParser.FromVisual(pipeline.VisualSteps)
            : StepParser.FromYaml(pipeline.Configuration);
        var waiting = false;
        foreach (var step in steps)
        {
            var state = step.Type switch
            {
                "waiter" => "waiting",
                "manual" => "blocked",
                _ => waiting ? "waiting" : "scheduled",
            };
            waiting |= step.Type == "waiter";
            var job = new JobEntity
            {
                Id = store.Ids.NewGuid(),
                Build = build,
                Type = step.Type,
                Name = step.Name,
                Label = step.Name,
                Command = step.Command,
                StepKey = step.Key,
                State = state,
                CreatedAt = now,
                ScheduledAt = state == "scheduled" ? now : null,
                RunnableAt = state == "scheduled" ? now : null,
                AgentQueryRules = [.. step.AgentQueryRules.Select(r => (JsonNode?)r)],
                StepId = store.Ids.NewGuid(),
            };
            build.Jobs.Add(job);
            pipeline.Organization.Jobs[job.Id] = job;
        }

        pipeline.Builds.Add(build);
        pipeline.Organization.Builds.Add(build);
        return build;
    }

    /// <summary>Sets a build's state, with its jobs following as a run would leave them (the sandbox's control endpoint).</summary>
    public static void SetState(BuildEntity build, string state, DateTimeOffset now)
    {
        build.State = state;
        var finished = Finished.Contains(state);
        build.StartedAt = state == "scheduled" ? null : build.StartedAt ?? now;
        build.FinishedAt = finished ? now : null;
        build.FailingAt = state is "failing" or "failed" ? build.FailingAt ?? now : null;
        foreach (var job in build.Jobs.Where(j => j.Type == "script" && !j.Retried))
        {
            (job.State, job.ExitStatus) = state switch
            {
                "running" => ("running", (int?)null),
                "passed" => ("passed", 0),
                "failed" or "failing" => ("failed", 1),
                "canceled" => ("canceled", (int?)null),
                "scheduled" => ("scheduled", (int?)null),
                _ => (job.State, job.ExitStatus),
            };
            job.StartedAt = job.State == "scheduled" ? null : job.StartedAt ?? now;
            job.FinishedAt = job.State is "passed" or "failed" or "canceled" ? now : null;
        }
    }

    public static void Cancel(BuildEntity build, DateTimeOffset now)
    {
        build.State = "canceled";
        build.FinishedAt = now;
        foreach (var job in build.Jobs.Where(j => j.Type is "script" or "trigger" && j.State is "scheduled" or "running" or "waiting" or "assigned" or "accepted"))
        {
            job.State = "canceled";
            job.FinishedAt = now;
        }
    }

    /// <summary>Retries a job: the old one is marked retried and a new one is scheduled in its place.</summary>
    public static JobEntity Retry(SandboxStore store, JobEntity job, string retryType)
    {
        var now = store.Now;
        var retry = new JobEntity
        {
            Id = store.Ids.NewGuid(),
            Build = job.Build,
            Type = job.Type,
            Name = job.Name,
            Label = job.Label,
            Command = job.Command,
            StepKey = job.StepKey,
            State = "scheduled",
            CreatedAt = now,
            ScheduledAt = now,
            RunnableAt = now,
            RetriesCount = job.RetriesCount + 1,
            RetryType = retryType,
            Priority = job.Priority,
            AgentQueryRules = job.AgentQueryRules.DeepClone().AsArray(),
            StepId = job.StepId,
        };
        job.Retried = true;
        job.RetriedInJobId = retry.Id;
        var build = job.Build;
        build.Jobs.Insert(build.Jobs.IndexOf(job) + 1, retry);
        build.Pipeline.Organization.Jobs[retry.Id] = retry;
        build.State = "scheduled";
        build.FinishedAt = null;
        return retry;
    }
}
