using Kiteflow.Server.Observability;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// On a silo that hosts grains in a cluster: when another silo is declared dead (or leaves), every active destination is
/// started again — a call to its grain activates it on a live silo if its silo was the one that left, and only wakes it
/// otherwise. The reminders would do the same within their period (a minute); this does it as soon as the membership
/// knows. Every such silo does it: a start is idempotent.
/// </summary>
internal sealed class ClusterWatcher(IClusterMembershipService membership, ILocalSiloDetails local, DeliveryControl control, ILogger<ClusterWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var gone = new HashSet<SiloAddress>();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                var left = snapshot.Members.Values
                    .Where(m => m.Status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping && !m.SiloAddress.Equals(local.SiloAddress) && gone.Add(m.SiloAddress))
                    .ToList();
                if (left.Count == 0)
                {
                    continue;
                }

                foreach (var silo in left)
                {
                    Log.SiloLeft(logger, silo.Name, silo.Status.ToString());
                }

                await RestartAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RestartAsync(CancellationToken stoppingToken)
    {
        // A silo shutting down still hosts its grains for a moment: try until the calls land on a silo that stays.
        for (var attempt = 1; attempt <= 5 && !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await control.RestartActiveAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or Storage.StoreException)
            {
                Log.RestartAfterSiloLeftFailed(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
            }
        }
    }
}
