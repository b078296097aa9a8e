using System.Text.Json.Nodes;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kiteflow.Server.Hosting;

/// <summary>
/// <c>/healthz</c>'s check of the cluster: this silo is active in it, and which silos are (names, addresses, status), as
/// this silo's view of the membership table has them.
/// </summary>
internal sealed class ClusterHealthCheck(IClusterMembershipService membership, ILocalSiloDetails local, SiloIdentity identity) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var snapshot = membership.CurrentSnapshot;
        var active = snapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["address"] = m.SiloAddress.Endpoint.ToString(), ["self"] = m.SiloAddress.Equals(local.SiloAddress) })
            .ToArray();
        var data = new Dictionary<string, object>
        {
            ["silo"] = identity.Name,
            ["role"] = identity.RoleName,
            ["clustering"] = identity.Clustered ? "postgres" : "localhost",
            ["activeSilos"] = new JsonArray(active),
        };
        var status = snapshot.GetSiloStatus(local.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"{active.Length} active silo(s)", data)
            : HealthCheckResult.Unhealthy($"this silo is {status.ToString().ToLowerInvariant()} in the cluster", data: data));
    }
}
