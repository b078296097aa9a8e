namespace Kiteflow.Server.Hosting;

/// <summary>Who this process is in its cluster: its silo's name, its role, and whether it is in a cluster at all (a PostgreSQL store).</summary>
internal sealed record SiloIdentity(string Name, ServerRole Role, bool Clustered)
{
    /// <summary>Whether destination and budget grains may activate here.</summary>
    public bool HostsGrains => Role != ServerRole.Api;

    /// <summary>Whether the REST API, UI and ingest are served here.</summary>
    public bool ServesApi => Role != ServerRole.Worker;

    /// <summary>all, api or worker.</summary>
    public string RoleName => Role.ToString().ToLowerInvariant();
}
