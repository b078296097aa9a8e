using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// On a silo that hosts grains in a cluster: when another silo is declared dead (or leaves), every active destination is
/// started again — a call to its grain activates it on a live silo if its silo was the one that left, and only wakes it
/// otherwise. The reminders would do the same within their period (a minute); this does it as soon as the membership
/// knows. Every such silo does it: a start is idempotent. Each destination is started on its own, and tried again while
/// the cluster settles (a call may still be routed to the silo that left), so one slow call holds up no other.
/// </summary>
internal sealed class ClusterWatcher(IClusterMembershipService membership, ILocalSiloDetails local, IKiteflowStore store, IGrainFactory grains, ILogger<ClusterWatcher> logger) : BackgroundService
{
    private const int Attempts = 10;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Silos that were gone before this one joined are not news: the start-up has started every destination.
        var gone = membership.CurrentSnapshot.Members.Values.Where(m => Left(m.Status)).Select(m => m.SiloAddress).ToHashSet();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                var left = snapshot.Members.Values
                    .Where(m => Left(m.Status) && !m.SiloAddress.Equals(local.SiloAddress) && gone.Add(m.SiloAddress))
                    .ToList();
                if (left.Count == 0)
                {
                    continue;
                }

                foreach (var silo in left)
                {
                    Log.SiloLeft(logger, silo.Name, silo.Status.ToString());
                }

                _ = RestartAllAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private static bool Left(SiloStatus status) => status is SiloStatus.Dead or SiloStatus.ShuttingDown or SiloStatus.Stopping;

    private async Task RestartAllAsync(CancellationToken stoppingToken)
    {
        try
        {
            var active = await store.Destinations.ListAsync(DestinationState.Active, stoppingToken).ConfigureAwait(false);
            await Task.WhenAll(active.Select(row => RestartAsync(row.Id, stoppingToken))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (StoreException e)
        {
            // The reminders start them within their period.
            Log.RestartAfterSiloLeftFailed(logger, e.Message);
        }
    }

    private async Task RestartAsync(long destinationId, CancellationToken stoppingToken)
    {
        for (var attempt = 1; attempt <= Attempts && !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IDestinationGrain>(destinationId).StartAsync("restart", startCursor: null).WaitAsync(stoppingToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                if (attempt == Attempts)
                {
                    Log.RestartAfterSiloLeftFailed(logger, $"destination {destinationId}: {e.Message}");
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false);
            }
        }
    }
}
