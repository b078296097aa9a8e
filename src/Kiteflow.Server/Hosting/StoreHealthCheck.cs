using Kiteflow.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kiteflow.Server.Hosting;

/// <summary><c>/healthz</c>'s check: the store answers a query.</summary>
internal sealed class StoreHealthCheck(IKiteflowStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await store.CheckAsync(cancellationToken).ConfigureAwait(false) is { } problem
            ? HealthCheckResult.Unhealthy(problem)
            : HealthCheckResult.Healthy("the store answers");
}
