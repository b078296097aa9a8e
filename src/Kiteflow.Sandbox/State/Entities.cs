using System.Text.Json.Nodes;

namespace Kiteflow.Sandbox.State;

// The sandbox's world, held in memory and guarded by SandboxStore.Gate: every read and write
// of these objects happens under that lock, so they are plain mutable classes.

internal sealed class UserEntity
{
    public required Guid Id { get; init; }
    public required string Name { get; set; }
    public required string Email { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

internal sealed class TokenEntity
{
    public required Guid Id { get; init; }
    public required byte[] ValueHash { get; init; }
    public required string Value { get; init; }
    public required IReadOnlyList<string> Scopes { get; init; }
    public required UserEntity User { get; init; }
    public required string Description { get; init; }
    public required IReadOnlyList<string>? Organizations { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public bool Revoked { get; set; }
}

internal enum MemberRole
{
    Member,
    Admin,
}

internal sealed class OrganizationEntity
{
    public required Guid Id { get; init; }
    public required string Slug { get; init; }
    public required string Name { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public bool RequiresClusterId { get; set; }
    public bool TeamsEnabled { get; set; }
    public bool PlanIncludesTeams { get; set; } = true;
    public Dictionary<Guid, MemberRole> Members { get; } = [];
    public List<PipelineEntity> Pipelines { get; } = [];
    public List<BuildEntity> Builds { get; } = [];
    public Dictionary<Guid, JobEntity> Jobs { get; } = [];
    public List<AgentEntity> Agents { get; } = [];
    public List<ClusterEntity> Clusters { get; } = [];
    public List<TeamEntity> Teams { get; } = [];
}

internal sealed class PipelineEntity
{
    public required Guid Id { get; init; }
    public required OrganizationEntity Organization { get; init; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public required string Repository { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required UserEntity CreatedBy { get; init; }
    public string? Description { get; set; }
    public string? Configuration { get; set; }
    public JsonArray? VisualSteps { get; set; }
    public string DefaultBranch { get; set; } = "main";
    public string? BranchConfiguration { get; set; }
    public Guid? ClusterId { get; set; }
    public string? Emoji { get; set; }
    public string? Color { get; set; }
    public bool SkipQueuedBranchBuilds { get; set; }
    public string? SkipQueuedBranchBuildsFilter { get; set; }
    public bool CancelRunningBranchBuilds { get; set; }
    public string? CancelRunningBranchBuildsFilter { get; set; }
    public bool AllowRebuilds { get; set; } = true;
    public string Visibility { get; set; } = "private";
    public JsonArray? Tags { get; set; }
    public JsonObject Env { get; set; } = [];
    public JsonObject? ProviderSettings { get; set; }
    public string? PipelineTemplateUuid { get; set; }
    public int? DefaultCommandStepTimeout { get; set; }
    public int? MaximumCommandStepTimeout { get; set; }
    public string? CloneMirrorUrl { get; set; }
    public DateTimeOffset? ArchivedAt { get; set; }
    public bool WebhookCreated { get; set; }
    public int NextBuildNumber { get; set; } = 1;
    public List<BuildEntity> Builds { get; } = [];
    public List<ScheduleEntity> Schedules { get; } = [];
    public string BadgeToken { get; init; } = "";
    public string WebhookToken { get; init; } = "";
}

internal sealed class BuildEntity
{
    public required Guid Id { get; init; }
    public required PipelineEntity Pipeline { get; init; }
    public required int Number { get; init; }
    public required string State { get; set; }
    public required string Source { get; init; }
    public required UserEntity Creator { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string? Message { get; init; }
    public required string Commit { get; init; }
    public required string Branch { get; init; }
    public JsonObject Env { get; init; } = [];
    public Dictionary<string, string> MetaData { get; init; } = new(StringComparer.Ordinal);
    public JsonObject? Author { get; init; }
    public JsonObject? PullRequest { get; init; }
    public bool CleanCheckout { get; init; }
    public bool IgnorePipelineBranchFilters { get; init; }
    public DateTimeOffset? ScheduledAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? FailingAt { get; set; }
    public string? CancelReason { get; set; }
    public BuildEntity? RebuiltFrom { get; init; }
    public TriggerLink? TriggeredFrom { get; set; }
    public List<JobEntity> Jobs { get; } = [];
    public List<AnnotationEntity> Annotations { get; } = [];
    public bool Deleted { get; set; }
}

internal sealed record TriggerLink(BuildEntity Build, bool Async);

internal sealed class JobEntity
{
    public required Guid Id { get; init; }
    public required BuildEntity Build { get; init; }
    public required string Type { get; init; }
    public string? Name { get; init; }
    public string? Label { get; init; }
    public string? Command { get; init; }
    public string? StepKey { get; init; }
    public required string State { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ScheduledAt { get; set; }
    public DateTimeOffset? RunnableAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int? ExitStatus { get; set; }
    public bool Retried { get; set; }
    public Guid? RetriedInJobId { get; set; }
    public int RetriesCount { get; init; }
    public string? RetryType { get; init; }
    public int Priority { get; set; }
    public JsonArray AgentQueryRules { get; init; } = [];
    public UserEntity? UnblockedBy { get; set; }
    public DateTimeOffset? UnblockedAt { get; set; }
    public JsonObject? UnblockFields { get; set; }
    public Guid StepId { get; init; }
}

internal sealed class AnnotationEntity
{
    public required Guid Id { get; init; }
    public required BuildEntity Build { get; init; }
    public JobEntity? Job { get; init; }
    public required string Context { get; init; }
    public required string Style { get; set; }
    public required int Priority { get; set; }
    public required string Body { get; set; }
    public required string BodyHtml { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class AgentEntity
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public required string ConnectionState { get; set; }
    public required string Hostname { get; init; }
    public required string IpAddress { get; init; }
    public required string Version { get; init; }
    public required UserEntity Creator { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public JsonArray MetaData { get; init; } = [];
    public Guid? ClusterId { get; init; }
    public Guid? QueueId { get; init; }
    public bool Paused { get; set; }
    public DateTimeOffset? PausedAt { get; set; }
    public UserEntity? PausedBy { get; set; }
    public string? PausedNote { get; set; }
    public int? PausedTimeoutInMinutes { get; set; }
}

internal sealed class ClusterEntity
{
    public required Guid Id { get; init; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public string? Emoji { get; set; }
    public string? Color { get; set; }
    public required UserEntity CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public Guid? DefaultQueueId { get; set; }
    public bool HostedGitMirrorEnabled { get; set; }
    public bool HostedContainerCacheEnabled { get; set; }
    public JsonObject Maintainers { get; set; } = new() { ["users"] = new JsonArray(), ["teams"] = new JsonArray() };
    public List<QueueEntity> Queues { get; } = [];
}

internal sealed class QueueEntity
{
    public required Guid Id { get; init; }
    public required ClusterEntity Cluster { get; init; }
    public required string Key { get; init; }
    public string? Description { get; set; }
    public string RetryAgentAffinity { get; set; } = "prefer-warmest";
    public required UserEntity CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string? InstanceShape { get; set; }
    public string? AgentImageRef { get; set; }
    public bool DispatchPaused { get; set; }
    public UserEntity? DispatchPausedBy { get; set; }
    public DateTimeOffset? DispatchPausedAt { get; set; }
    public string? DispatchPausedNote { get; set; }

    public bool Hosted => InstanceShape is not null;
}

internal sealed class TeamEntity
{
    public required Guid Id { get; init; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public string? Description { get; set; }
    public string Privacy { get; set; } = "visible";
    public bool IsDefaultTeam { get; set; }
    public string DefaultMemberRole { get; set; } = "member";
    public bool MembersCanCreatePipelines { get; set; }
    public bool MembersCanCreateSuites { get; set; }
    public bool MembersCanCreateRegistries { get; set; }
    public bool MembersCanDestroyRegistries { get; set; }
    public bool MembersCanDestroyPackages { get; set; }
    public required UserEntity CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public List<TeamMemberEntity> Members { get; } = [];
    public List<TeamPipelineEntity> Pipelines { get; } = [];
}

internal sealed class TeamMemberEntity
{
    public required UserEntity User { get; init; }
    public required string Role { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
}

internal sealed class TeamPipelineEntity
{
    public required PipelineEntity Pipeline { get; init; }
    public required string AccessLevel { get; set; }
    public required DateTimeOffset CreatedAt { get; init; }
}

internal sealed class ScheduleEntity
{
    public required Guid Id { get; init; }
    public required PipelineEntity Pipeline { get; init; }
    public string? Label { get; set; }
    public required string Cronline { get; set; }
    public string? Message { get; set; }
    public string Commit { get; set; } = "HEAD";
    public string? Branch { get; set; }
    public JsonObject Env { get; set; } = [];
    public bool Enabled { get; set; } = true;
    public required UserEntity CreatedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}
