using static Kiteflow.Core.Catalog.FieldSpec;

namespace Kiteflow.Core.Catalog;

/// <summary>
/// The Buildkite REST endpoints (v2) and their bodies, from Buildkite's documentation, its Go client and the examples
/// in <c>tests/fixtures/buildkite-api</c>. Where a fact is a guess it is marked "unconfirmed", and the catalog takes
/// the reading that refuses less: Buildkite is the final judge, the catalog only catches mistakes early.
/// </summary>
internal static class BuildkiteEndpoints
{
    private const string Org = "/organizations/{org}";
    private const string Pipeline = Org + "/pipelines/{pipeline}";
    private const string Build = Pipeline + "/builds/{number}";
    private const string Job = Org + "/jobs/{job}";
    private const string BuildJob = Build + "/jobs/{job}";
    private const string Cluster = Org + "/clusters/{cluster}";
    private const string Team = Org + "/teams/{team}";

    private const string AgentPermission =
        "Besides the write_agents scope, the user must be an organization administrator, or hold the Stop Agents permission when security for pipelines is on.";

    private const string PutOrPatch =
        "Buildkite's documentation says PUT and its Go client sends PATCH: both are accepted.";

    // unconfirmed: Buildkite documents env and meta-data values as strings; numbers and booleans (the docs' own
    // meta_data example sends true) are taken too, as Buildkite turns them into strings. Objects and arrays are refused.
    private static readonly FieldSpec ScalarValue = Item(JsonKinds.Scalar);

    // "Values up to 100 KB". unconfirmed: whether that is 100,000 or 102,400 bytes; the larger is used.
    private const int MetaDataValueBytes = 100 * 1024;

    // The annotation body limit: 1 MiB of UTF-8.
    private const int AnnotationBodyBytes = 1024 * 1024;

    private static readonly string[] RetryableStates = ["canceled", "expired", "failed", "soft_failed", "timed_out"];

    private static readonly ObjectSchema CreateBuild = new(
    [
        String("commit").Required().WithHint("the ref, SHA or tag to build, e.g. \"HEAD\""),
        String("branch").Required().WithHint("the branch the commit belongs to, e.g. \"main\""),
        String("message"),
        Object("author", String("name"), String("email")),
        Map("env", ScalarValue),
        Map("meta_data", ScalarValue.AtMostBytes(MetaDataValueBytes)),
        Boolean("clean_checkout"),
        Boolean("ignore_pipeline_branch_filters"),
        String("pull_request_base_branch"),
        Integer("pull_request_id"),
        Array("pull_request_labels", Item(JsonKinds.String)),
        String("pull_request_repository"),
    ]);

    private static readonly ObjectSchema RetryFailedJobs = new(
    [
        // Documented as a comma-separated string ("failed,soft_failed"). unconfirmed: whether an array of states is
        // also taken (Rails would read one); it is accepted, each item checked.
        OfKinds("states", JsonKinds.String | JsonKinds.Array)
            .CommaListOf(RetryableStates)
            .WithItems(Item(JsonKinds.String).OneOf(RetryableStates)),
    ]);

    private static readonly ObjectSchema CreateAnnotation = new(
    [
        String("body").Required().AtMostBytes(AnnotationBodyBytes).WithHint("the annotation's Markdown or HTML"),
        String("style").OneOf("success", "info", "warning", "error"),
        Integer("priority").Between(1, 10),
        String("context"),
        Boolean("append"),
    ]);

    // The fields create pipeline and update pipeline share.
    private static readonly FieldSpec[] PipelineSettings =
    [
        String("cluster_id"),
        String("slug").WithFormat(StringFormat.Slug).AtMostChars(100),
        String("description"),
        String("default_branch"),
        String("emoji"),
        String("color"),
        String("branch_configuration"),
        Boolean("skip_queued_branch_builds"),
        String("skip_queued_branch_builds_filter"),
        Boolean("cancel_running_branch_builds"),
        String("cancel_running_branch_builds_filter"),
        Boolean("allow_rebuilds"),
        String("clone_mirror_url"),
        // unconfirmed: no documented bounds on the step timeouts; none are checked.
        Integer("default_command_step_timeout"),
        Integer("maximum_command_step_timeout"),
        Map("env", ScalarValue),
        FreeObject("provider_settings"),
        Array("tags", Item(JsonKinds.String)),
        // Buildkite documents "private" and "public". unconfirmed: whether it accepts other casings; not taken.
        String("visibility").OneOf("private", "public"),
        String("pipeline_template_uuid"),
    ];

    private const string YamlHint = "the pipeline's YAML steps, e.g. \"steps:\\n  - command: make test\"";

    private static readonly ObjectSchema CreatePipeline = new(
        [
            String("name").Required().WithHint("the pipeline's name; its slug is derived from it unless `slug` is given"),
            String("repository").Required().WithHint("the repository URL, e.g. \"git@github.com:acme/app.git\""),
            String("configuration").NotBlank().WithHint(YamlHint),
            // Visual steps are objects Buildkite interprets ({ "type": "script", ... }); their content is not checked.
            Array("steps", Item(JsonKinds.Object)),
            .. PipelineSettings,
            // Documented as a map of team UUID to access level; the deprecated form was an array of team UUIDs.
            // unconfirmed: whether the array form is still read; both are accepted, their content unchecked.
            OfKinds("teams", JsonKinds.Object | JsonKinds.Array),
            Array("team_uuids", Item(JsonKinds.String)),
        ],
        new RequiredGroup(
            "configuration",
            ["configuration", "steps", "pipeline_template_uuid"],
            "the pipeline's steps: add `configuration` (the YAML steps, as a string) or `steps` (an array of visual steps), or a `pipeline_template_uuid` whose template supplies them"));

    private static readonly ObjectSchema UpdatePipeline = new(
    [
        String("name"),
        String("repository"),
        String("configuration").NotBlank().WithHint(YamlHint),
        Array("steps", Item(JsonKinds.Object)),
        .. PipelineSettings,
        OfKinds("teams", JsonKinds.Object | JsonKinds.Array).Refused(
            "update pipeline does not change a pipeline's teams; leave it out, and use team_pipelines.create, team_pipelines.update or team_pipelines.delete (or the GraphQL API) instead"),
    ]);

    private static ObjectSchema Schedule(bool create) => new(
    [
        create ? String("cronline").Required().WithHint("when to build, in cron syntax or a shortcut such as \"@daily\"") : String("cronline"),
        String("label"),
        String("message"),
        String("commit"),
        String("branch"),
        Map("env", ScalarValue),
        Boolean("enabled"),
    ]);

    private static readonly ObjectSchema StopAgent = new([Boolean("force")]);

    private static readonly ObjectSchema PauseAgent = new(
    [
        String("note"),
        // unconfirmed: no documented bounds; any whole number is taken.
        Integer("timeout_in_minutes"),
    ]);

    private static readonly ObjectSchema CreateCluster = new(
    [
        String("name").Required(),
        String("description"),
        String("emoji"),
        String("color"),
        // unconfirmed: the shape of maintainers is not documented for requests (responses show
        // { "users": [], "teams": [] }); an object or an array is accepted, its content unchecked.
        OfKinds("maintainers", JsonKinds.Object | JsonKinds.Array),
    ]);

    private static readonly ObjectSchema UpdateCluster = new(
    [
        String("name"),
        String("description"),
        String("emoji"),
        String("color"),
        String("default_queue_id"),
        Boolean("hosted_git_mirror_enabled"),
        Boolean("hosted_container_cache_enabled"),
    ]);

    private static readonly string[] RetryAgentAffinities = ["prefer-warmest", "prefer-different"];

    // The request uses camelCase here (hostedAgents.instanceShape), unlike the rest of the API.
    // unconfirmed: the list of instance shapes changes with Buildkite's offer, so any string is taken.
    private static readonly FieldSpec HostedAgents = Object(
        "hostedAgents",
        String("instanceShape").Required().WithHint("the hosted agent shape, e.g. \"LINUX_AMD64_2X4\""),
        String("agentImageRef"));

    private static readonly ObjectSchema CreateQueue = new(
    [
        String("key").Required().WithHint("the queue's key, e.g. \"default\""),
        String("description"),
        String("retry_agent_affinity").OneOf(RetryAgentAffinities),
        HostedAgents,
    ]);

    private static readonly ObjectSchema UpdateQueue = new(
    [
        String("description"),
        String("retry_agent_affinity").OneOf(RetryAgentAffinities),
        HostedAgents,
    ]);

    // The docs' property table says "note"; their example and the Go client send "dispatch_paused_note". Both known.
    private static readonly ObjectSchema PauseQueue = new([String("note"), String("dispatch_paused_note")]);

    private static ObjectSchema TeamSettings(bool create) => new(
    [
        // The docs mark all ten fields required, on update (a PATCH) too, and the list grew from six to ten over
        // time, so older callers that send six still work. unconfirmed: which are truly required; only `name`, on
        // create, is.
        create ? String("name").Required() : String("name"),
        String("description"),
        String("privacy").OneOf("visible", "secret"),
        Boolean("is_default_team"),
        String("default_member_role").OneOf("member", "maintainer"),
        Boolean("members_can_create_pipelines"),
        Boolean("members_can_create_suites"),
        Boolean("members_can_create_registries"),
        Boolean("members_can_destroy_registries"),
        Boolean("members_can_destroy_packages"),
    ]);

    private static readonly FieldSpec TeamRole = String("role").Required().OneOf("member", "maintainer");

    private static readonly FieldSpec AccessLevel =
        String("access_level").Required().OneOf("read_only", "build_and_read", "manage_build_and_read");

    private static readonly ObjectSchema UnblockJob = new(
    [
        String("unblocker").WithHint("the UUID of the user unblocking the job"),
        // The block step's fields, by key; Buildkite checks them against the step.
        FreeObject("fields"),
    ]);

    private static readonly ObjectSchema ReprioritizeJob = new(
    [
        // unconfirmed: the documented 400 says only "Priority must be an integer"; job priorities may be negative,
        // so no bounds are checked.
        Integer("priority").Required().WithHint("the job's new priority, a whole number; higher runs first"),
    ]);

    public static IReadOnlyList<EndpointDefinition> All { get; } =
    [
        // Builds
        new("builds.create", ["POST"], Pipeline + "/builds", "write_builds", "Create a build", "build", CreateBuild,
            notes:
            [
                "There is no idempotency key: every call makes a new build. Put a key unique to the request in `meta_data` and look the build up with the builds list's `meta_data` filter before retrying.",
                "`meta_data` here is the only way to set a build's meta-data through the REST API; each value is at most 100 KiB.",
            ]),
        new("builds.cancel", ["PUT"], Build + "/cancel", "write_builds", "Cancel a build", "build", null,
            notes: ["Only a scheduled, running or failing build can be canceled; others answer 422."]),
        new("builds.rebuild", ["PUT"], Build + "/rebuild", "write_builds", "Rebuild a build (creates a new build)", "build", null),
        new("builds.retry_failed_jobs", ["PUT"], Build + "/retry_failed_jobs", "write_builds", "Retry a build's failed jobs", "build", RetryFailedJobs,
            notes: ["Answers 202: the jobs are queued for retry, not finished."]),
        new("builds.list", ["GET"], Pipeline + "/builds", "read_builds", "List a pipeline's builds", "query", null,
            notes: ["Filter with `meta_data[key]=value` in the query to find a build created with that meta-data."]),
        new("builds.list_for_organization", ["GET"], Org + "/builds", "read_builds", "List an organization's builds", "query", null),

        // Annotations
        new("annotations.create", ["POST"], Build + "/annotations", "write_builds", "Create an annotation on a build", "annotation", CreateAnnotation,
            aliases: ["annotations.create_on_build"]),
        new("annotations.delete", ["DELETE"], Build + "/annotations/{uuid}", "write_builds", "Delete an annotation on a build", "annotation", null,
            aliases: ["annotations.delete_on_build"]),
        new("annotations.create_on_job", ["POST"], Job + "/annotations", "write_builds", "Create an annotation on a job", "annotation", CreateAnnotation,
            alternatePaths: [BuildJob + "/annotations"]),
        new("annotations.delete_on_job", ["DELETE"], Job + "/annotations/{uuid}", "write_builds", "Delete an annotation on a job", "annotation", null,
            alternatePaths: [BuildJob + "/annotations/{uuid}"]),

        // Jobs
        new("jobs.retry", ["PUT"], Job + "/retry", "write_builds", "Retry a job", "job", null,
            alternatePaths: [BuildJob + "/retry"],
            notes: ["Only a failed, timed out or canceled job can be retried, and not one of a canceled build."]),
        new("jobs.unblock", ["PUT"], Job + "/unblock", "write_builds", "Unblock a job", "job", UnblockJob,
            alternatePaths: [BuildJob + "/unblock"]),
        new("jobs.reprioritize", ["PUT"], Job + "/reprioritize", "write_builds", "Change a job's priority", "job", ReprioritizeJob,
            alternatePaths: [BuildJob + "/reprioritize"]),

        // Pipelines
        new("pipelines.create", ["POST"], Org + "/pipelines", "write_pipelines", "Create a pipeline", "pipeline", CreatePipeline,
            aliases: ["pipelines.create_yaml", "pipelines.create_visual_steps"],
            notes:
            [
                "`cluster_id` is required only by organizations that Buildkite created with clusters as the default; they answer 422 \"Validation Failed\" without it. The catalog does not require it.",
                "The steps come from `configuration` (YAML, the recommended way), `steps` (visual steps) or a pipeline template.",
                "A pipeline whose name matches an existing one is refused.",
            ]),
        new("pipelines.update", ["PATCH"], Pipeline, "write_pipelines", "Update a pipeline", "pipeline", UpdatePipeline,
            notes:
            [
                "`teams` is refused: change a pipeline's teams with the team pipelines endpoints or the GraphQL API.",
                "A new `name` without a `slug` regenerates the slug, which changes the pipeline's URLs.",
                "For a YAML pipeline Buildkite ignores `env` and refuses `steps` (422) unless `configuration` is sent too.",
            ]),
        new("pipelines.delete", ["DELETE"], Pipeline, "write_pipelines", "Delete a pipeline", "pipeline", null),
        new("pipelines.archive", ["POST"], Pipeline + "/archive", "write_pipelines", "Archive a pipeline", "pipeline", null),
        new("pipelines.unarchive", ["POST"], Pipeline + "/unarchive", "write_pipelines", "Unarchive a pipeline", "pipeline", null),
        new("pipelines.add_webhook", ["POST"], Pipeline + "/webhook", "write_pipelines", "Add a GitHub webhook to a pipeline", "pipeline", null,
            notes: ["Only for pipelines that use Buildkite's GitHub App."]),

        // Pipeline schedules
        new("pipeline_schedules.create", ["POST"], Pipeline + "/schedules", "write_pipelines", "Create a pipeline schedule", "schedule", Schedule(create: true)),
        new("pipeline_schedules.update", ["PUT", "PATCH"], Pipeline + "/schedules/{id}", "write_pipelines", "Update a pipeline schedule", "schedule", Schedule(create: false),
            notes: [PutOrPatch]),
        new("pipeline_schedules.delete", ["DELETE"], Pipeline + "/schedules/{id}", "write_pipelines", "Delete a pipeline schedule", "schedule", null),

        // Agents
        new("agents.stop", ["PUT"], Org + "/agents/{id}/stop", "write_agents", "Stop an agent", "agent", StopAgent,
            notes: [AgentPermission, "`force` defaults to true: a job the agent is running is canceled."]),
        new("agents.pause", ["PUT"], Org + "/agents/{id}/pause", "write_agents", "Pause an agent", "agent", PauseAgent,
            notes: [AgentPermission]),
        new("agents.resume", ["PUT"], Org + "/agents/{id}/resume", "write_agents", "Resume a paused agent", "agent", null,
            notes: [AgentPermission]),

        // Clusters and queues
        new("clusters.create", ["POST"], Org + "/clusters", "write_clusters", "Create a cluster", "cluster", CreateCluster),
        new("clusters.update", ["PUT", "PATCH"], Org + "/clusters/{id}", "write_clusters", "Update a cluster", "cluster", UpdateCluster,
            notes: [PutOrPatch, "`hosted_git_mirror_enabled` and `hosted_container_cache_enabled` apply to hosted clusters only."]),
        new("clusters.delete", ["DELETE"], Org + "/clusters/{id}", "write_clusters", "Delete a cluster", "cluster", null,
            notes: ["Deleting a cluster deletes its queues and agent tokens."]),
        new("queues.create", ["POST"], Cluster + "/queues", "write_clusters", "Create a queue (self-hosted, or hosted with `hostedAgents`)", "queue", CreateQueue,
            aliases: ["queues.create_self_hosted", "queues.create_hosted"],
            notes: ["`hostedAgents` makes a Buildkite hosted queue; its `agentImageRef` is ignored on create."]),
        new("queues.update", ["PUT", "PATCH"], Cluster + "/queues/{id}", "write_clusters", "Update a queue", "queue", UpdateQueue,
            notes: [PutOrPatch, "`hostedAgents.agentImageRef` must be sent together with `hostedAgents.instanceShape`."]),
        new("queues.delete", ["DELETE"], Cluster + "/queues/{id}", "write_clusters", "Delete a queue", "queue", null),
        new("queues.pause", ["POST"], Cluster + "/queues/{id}/pause_dispatch", "write_clusters", "Pause a queue's dispatch", "queue", PauseQueue,
            notes: ["The docs name the note `note` in one place and `dispatch_paused_note` in another (the Go client sends the latter): both are known."]),
        new("queues.resume", ["POST"], Cluster + "/queues/{id}/resume_dispatch", "write_clusters", "Resume a paused queue's dispatch", "queue", null),

        // Teams
        new("teams.create", ["POST"], Org + "/teams", "write_teams", "Create a team", "team", TeamSettings(create: true),
            notes: ["The docs mark all ten fields required; the catalog requires only `name` and lets Buildkite judge the rest."]),
        new("teams.update", ["PATCH"], Team, "write_teams", "Update a team", "team", TeamSettings(create: false),
            notes: ["The docs mark all ten fields required although this is a PATCH; the catalog requires none."]),
        new("teams.delete", ["DELETE"], Team, "write_teams", "Delete a team", "team", null),
        new("teams.enable", ["POST"], Org + "/teams/enable", "write_teams", "Enable teams for the organization", "organization", null,
            notes: ["Organization administrators only; calling it when teams are already on still answers 204."]),
        new("team_members.create", ["POST"], Team + "/members", "write_teams", "Add a member to a team", "team member",
            new ObjectSchema([String("user_id").Required().WithHint("the user's UUID"), TeamRole])),
        new("team_members.update", ["PATCH"], Team + "/members/{uuid}", "write_teams", "Change a team member's role", "team member",
            new ObjectSchema([TeamRole])),
        new("team_members.delete", ["DELETE"], Team + "/members/{uuid}", "write_teams", "Remove a member from a team", "team member", null),
        new("team_pipelines.create", ["POST"], Team + "/pipelines", "write_teams", "Give a team access to a pipeline", "team pipeline",
            new ObjectSchema([String("pipeline_id").Required().WithHint("the pipeline's UUID, not its slug"), AccessLevel])),
        new("team_pipelines.update", ["PATCH"], Team + "/pipelines/{uuid}", "write_teams", "Change a team's access to a pipeline", "team pipeline",
            new ObjectSchema([AccessLevel])),
        new("team_pipelines.delete", ["DELETE"], Team + "/pipelines/{uuid}", "write_teams", "Remove a team's access to a pipeline", "team pipeline", null,
            notes: ["`{uuid}` is the pipeline's UUID, not its slug."]),

        // Tokens and limits: reads and revocation, known so every documented example is recognised.
        new("access_token.get", ["GET"], "/access-token", null, "Get the current token and its scopes", "query", null),
        new("access_token.revoke", ["DELETE"], "/access-token", null, "Revoke the current token", "token", null,
            notes: ["The token stops working at once: nothing after this call can use it."]),
        new("organization_rate_limit.get", ["GET"], Org + "/rate_limit", "read_accounts", "Get the organization's rate limit usage", "query", null),
        // unconfirmed: the scope of GET /user is read_user per Buildkite's user API page; the fixture gives none.
        new("user.get", ["GET"], "/user", "read_user", "Get the token's user", "query", null),
    ];
}
