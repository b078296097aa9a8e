namespace Kiteflow.Sandbox.Auth;

/// <summary>The REST API scopes the sandbox knows, and the names the endpoints require.</summary>
internal static class Scopes
{
    public const string ReadAgents = "read_agents";
    public const string WriteAgents = "write_agents";
    public const string ReadBuilds = "read_builds";
    public const string WriteBuilds = "write_builds";
    public const string ReadPipelines = "read_pipelines";
    public const string WritePipelines = "write_pipelines";
    public const string ReadOrganizations = "read_organizations";
    public const string ReadClusters = "read_clusters";
    public const string WriteClusters = "write_clusters";
    public const string ReadTeams = "read_teams";
    public const string WriteTeams = "write_teams";
    public const string ReadUser = "read_user";

    // The rate-limit endpoint's scope as the docs print it (organization_rate_limit_get.json).
    public const string ReadAccounts = "read_accounts";

    public static IReadOnlyList<string> All { get; } =
    [
        ReadAgents, WriteAgents, ReadTeams, WriteTeams, "read_artifacts", "write_artifacts",
        ReadBuilds, WriteBuilds, "read_job_env", "read_build_logs", "write_build_logs",
        ReadOrganizations, ReadPipelines, WritePipelines, "read_pipeline_templates", "write_pipeline_templates",
        ReadUser, "read_suites", "write_suites", "read_test_plan", "write_test_plan", ReadClusters, WriteClusters,
        ReadAccounts, "graphql",
    ];
}
