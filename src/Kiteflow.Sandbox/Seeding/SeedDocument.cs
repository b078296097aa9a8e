namespace Kiteflow.Sandbox.Seeding;

// The seed file's shape (camelCase JSON; docs/sandbox.md documents it, DefaultSeed.json is an example).
// Ids are optional: missing ones are generated. Users are referred to by email, clusters by name,
// queues by key and pipelines by slug.

internal sealed record SeedDocument
{
    public List<SeedUser> Users { get; init; } = [];
    public List<SeedToken> Tokens { get; init; } = [];
    public List<SeedOrganization> Organizations { get; init; } = [];
}

internal sealed record SeedUser
{
    public Guid? Id { get; init; }
    public string Name { get; init; } = "";
    public string Email { get; init; } = "";
}

internal sealed record SeedToken
{
    public string Token { get; init; } = "";
    public List<string> Scopes { get; init; } = [];
    public string? User { get; init; }
    public string? Description { get; init; }
    public List<string>? Organizations { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
}

internal sealed record SeedOrganization
{
    public Guid? Id { get; init; }
    public string Slug { get; init; } = "";
    public string? Name { get; init; }
    public bool RequiresClusterId { get; init; }
    public bool TeamsEnabled { get; init; }
    public bool PlanIncludesTeams { get; init; } = true;
    public List<SeedMember> Members { get; init; } = [];
    public List<SeedCluster> Clusters { get; init; } = [];
    public List<SeedPipeline> Pipelines { get; init; } = [];
    public List<SeedAgent> Agents { get; init; } = [];
    public List<SeedTeam> Teams { get; init; } = [];
}

internal sealed record SeedMember
{
    public string User { get; init; } = "";
    public string Role { get; init; } = "member";
}

internal sealed record SeedCluster
{
    public Guid? Id { get; init; }
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    public string? Emoji { get; init; }
    public string? Color { get; init; }
    public string? DefaultQueue { get; init; }
    public List<SeedQueue> Queues { get; init; } = [];
}

internal sealed record SeedQueue
{
    public Guid? Id { get; init; }
    public string Key { get; init; } = "";
    public string? Description { get; init; }
    public string? InstanceShape { get; init; }
}

internal sealed record SeedPipeline
{
    public Guid? Id { get; init; }
    public string Name { get; init; } = "";
    public string? Slug { get; init; }
    public string Repository { get; init; } = "";
    public string? Configuration { get; init; }
    public string? Description { get; init; }
    public string? DefaultBranch { get; init; }
    public string? Cluster { get; init; }
    public bool AllowRebuilds { get; init; } = true;
    public bool Archived { get; init; }
    public string? Visibility { get; init; }
}

internal sealed record SeedAgent
{
    public Guid? Id { get; init; }
    public string Name { get; init; } = "";
    public string ConnectionState { get; init; } = "connected";
    public string? Hostname { get; init; }
    public string? Cluster { get; init; }
    public string? Queue { get; init; }
    public List<string> MetaData { get; init; } = [];
    public bool Paused { get; init; }
}

internal sealed record SeedTeam
{
    public Guid? Id { get; init; }
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    public string Privacy { get; init; } = "visible";
    public List<SeedTeamMember> Members { get; init; } = [];
    public List<SeedTeamPipeline> Pipelines { get; init; } = [];
}

internal sealed record SeedTeamMember
{
    public string User { get; init; } = "";
    public string Role { get; init; } = "member";
}

internal sealed record SeedTeamPipeline
{
    public string Pipeline { get; init; } = "";
    public string AccessLevel { get; init; } = "build_and_read";
}
