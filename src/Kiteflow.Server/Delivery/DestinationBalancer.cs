using Kiteflow.Server.Observability;
using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// Spreads the active destinations over the silos that host them (issue 11): a silo that joins the cluster gets its
/// share without a restart, and destinations activated together, which Orleans' placement (weighing the silos' CPU and
/// memory) can put mostly on one silo, are evened out. Each silo that hosts destinations looks at its own share — when a
/// silo joins, a few seconds after destinations start on it, and every <see cref="ServerOptions.RebalanceInterval"/> —
/// and moves only its own destinations beyond the even share (the active destinations over the silos, rounded up),
/// each to the silo that has fewest, never to one that would end with as many as this one. No silo moves another's
/// destinations, so no destination is moved twice at once; two silos that both gave to the same one leave it at most a
/// few over, and that silo evens it out at its next look. A move stops the destination as a pause does (calls in
/// flight answered and recorded, its lease released), so the silo it arrives on delivers at once, without waiting for
/// a lease, and exactly once as after any restart. Destinations that wait for records move before those that deliver.
/// </summary>
internal sealed class DestinationBalancer(
    IClusterMembershipService membership,
    IClusterManifestProvider manifests,
    ILocalSiloDetails local,
    IKiteflowStore store,
    DeliveryServices services,
    IGrainFactory grains,
    ServerOptions options,
    ILogger<DestinationBalancer> logger) : BackgroundService
{
    // A joining silo is in the membership before its grain manifest reaches this one; it is counted once both are here.
    private static readonly TimeSpan AfterJoin = TimeSpan.FromSeconds(1);
    // Destinations activated together start within a few seconds of each other; one look after the last of them.
    private static readonly TimeSpan AfterStarts = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MoveSettles = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _lookNow = new(0);
    private long _lastStart;
    private int _lookAfterStarts;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = WatchJoinsAsync(stoppingToken);
        services.WorkerStarted += () => _ = LookAfterStartsAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Silos look at slightly different times, so their moves after a join are not all decided on one view.
                var jitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, 500));
                await _lookNow.WaitAsync(options.RebalanceInterval + jitter, stoppingToken).ConfigureAwait(false);
                await BalanceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is StoreException or OrleansException or TimeoutException)
            {
                // The next look tries again.
                Log.BalanceFailed(logger, e.Message);
            }
        }
    }

    /// <summary>Looks at this silo's share a second after another silo joins (and again once its manifest is in).</summary>
    private async Task WatchJoinsAsync(CancellationToken stoppingToken)
    {
        var known = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken).ConfigureAwait(false))
            {
                var joined = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active && known.Add(m.SiloAddress)).ToList();
                if (joined.Count > 0)
                {
                    await Task.Delay(AfterJoin, stoppingToken).ConfigureAwait(false);
                    _lookNow.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>Looks once no destination has started on this silo for <see cref="AfterStarts"/>.</summary>
    private async Task LookAfterStartsAsync(CancellationToken stoppingToken)
    {
        Interlocked.Exchange(ref _lastStart, Environment.TickCount64);
        if (Interlocked.Exchange(ref _lookAfterStarts, 1) == 1)
        {
            return;
        }

        try
        {
            long quiet;
            while ((quiet = Environment.TickCount64 - Interlocked.Read(ref _lastStart)) < (long)AfterStarts.TotalMilliseconds)
            {
                await Task.Delay(TimeSpan.FromMilliseconds((long)AfterStarts.TotalMilliseconds - quiet), stoppingToken).ConfigureAwait(false);
            }

            Volatile.Write(ref _lookAfterStarts, 0);
            _lookNow.Release();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task BalanceAsync(CancellationToken cancellationToken)
    {
        var mine = services.RunningWorkers;
        var hosts = Hosts();
        if (hosts.Count < 2 || mine.Count == 0 || !hosts.ContainsKey(local.SiloAddress))
        {
            return;
        }

        var active = await store.Destinations.ListAsync(DestinationState.Active, cancellationToken).ConfigureAwait(false);
        var share = (active.Count + hosts.Count - 1) / hosts.Count;
        if (mine.Count <= share)
        {
            return;
        }

        // How many each silo has: asked of the destinations this silo does not deliver.
        var counts = hosts.Keys.ToDictionary(h => h, _ => 0);
        counts[local.SiloAddress] = mine.Count;
        var byName = hosts.ToDictionary(h => h.Value, h => h.Key, StringComparer.Ordinal);
        var own = mine.Select(w => w.DestinationId).ToHashSet();
        var statuses = await Task.WhenAll(active.Where(d => !own.Contains(d.Id)).Select(d => grains.GetGrain<IDestinationGrain>(d.Id).GetStatusAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken))).ConfigureAwait(false);
        foreach (var status in statuses)
        {
            if (status.Silo is { } name && byName.TryGetValue(name, out var host) && !host.Equals(local.SiloAddress))
            {
                counts[host]++;
            }
        }

        // Waiting destinations first: a move of one that delivers ends its stretch early and looks its batches up again.
        var candidates = new Queue<DestinationWorker>(mine.OrderBy(w => w.State == "waiting" ? 0 : 1).ThenBy(w => w.DestinationId));
        var moves = new List<(long Destination, SiloAddress To)>();
        while (counts[local.SiloAddress] > share && candidates.Count > 0)
        {
            var (to, theirs) = counts.Where(c => !c.Key.Equals(local.SiloAddress)).MinBy(c => c.Value);
            if (theirs + 1 >= counts[local.SiloAddress])
            {
                break;
            }

            moves.Add((candidates.Dequeue().DestinationId, to));
            counts[to]++;
            counts[local.SiloAddress]--;
        }

        foreach (var (destination, to) in moves)
        {
            Log.DestinationMoving(logger, destination, local.Name, hosts[to], mine.Count, active.Count, hosts.Count);
            await grains.GetGrain<IDestinationGrain>(destination).MoveAsync(to).WaitAsync(MoveSettles, cancellationToken).ConfigureAwait(false);
        }

        // A move happens once the grain is idle; should one not be made (the silo it was to go to left), the destination
        // is started again wherever Orleans places it — a start of one that runs only wakes it.
        foreach (var (destination, _) in moves)
        {
            _ = EnsureStartedAsync(destination, cancellationToken);
        }
    }

    /// <summary>The silos, active now, whose grain manifest has the destination grain, with their names.</summary>
    private Dictionary<SiloAddress, string> Hosts()
    {
        var destinationType = grains.GetGrain<IDestinationGrain>(0).GetGrainId().Type;
        var manifest = manifests.Current;
        return membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && manifest.Silos.TryGetValue(m.SiloAddress, out var silo) && silo.Grains.ContainsKey(destinationType))
            .ToDictionary(m => m.SiloAddress, m => m.Name);
    }

    private async Task EnsureStartedAsync(long destination, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(MoveSettles, cancellationToken).ConfigureAwait(false);
            var row = await store.Destinations.GetByIdAsync(destination, cancellationToken).ConfigureAwait(false);
            if (row is { State: DestinationState.Active })
            {
                await grains.GetGrain<IDestinationGrain>(destination).StartAsync("restart", startCursor: null).WaitAsync(MoveSettles, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception e) when (e is StoreException or OrleansException or TimeoutException)
        {
            // The reminder starts it within its period.
            Log.BalanceFailed(logger, $"destination {destination}: {e.Message}");
        }
    }

    public override void Dispose()
    {
        _lookNow.Dispose();
        base.Dispose();
    }
}
