using Kiteflow.Storage;
using Orleans.Runtime.Placement;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// The grain of one destination: it owns the destination's <see cref="DestinationWorker"/> while the destination is
/// active. The worker runs on the thread pool; the grain only starts, stops and reports it. While the worker runs the
/// grain is kept from being collected, and a reminder (every minute) starts the worker again wherever the grain is
/// activated next — after a silo died, say — as long as the store says the destination is active. A destination moved
/// to another silo (to spread destinations over the silos, <see cref="DestinationBalancer"/>) stops here gracefully —
/// its calls in flight answered and recorded, its lease released — and starts again on arrival.
/// </summary>
internal sealed class DestinationGrain(DeliveryServices services, ILocalSiloDetails silo) : Grain, IDestinationGrain, IRemindable, IGrainMigrationParticipant
{
    private const string KeepAlive = "keep-alive";
    private const string WasDelivering = "kiteflow.delivering";
    private DestinationWorker? _worker;
    private bool _deliveredBeforeMove;
    private bool _arrivedDelivering;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!_arrivedDelivering)
        {
            return;
        }

        // Moved here from another silo while it delivered: it goes on, unless it was paused in the meantime.
        var row = await services.Store.Destinations.GetByIdAsync(this.GetPrimaryKeyLong(), cancellationToken).ConfigureAwait(true);
        if (row is { State: DestinationState.Active })
        {
            await StartAsync("move", startCursor: null).ConfigureAwait(true);
        }
    }

    public async Task StartAsync(string reason, long? startCursor)
    {
        if (_worker is { Stopped: false } running)
        {
            running.Wake();
            return;
        }

        if (_worker is { Fenced: true })
        {
            // Another activation (on a silo that took this one's place) owns the destination: this one is a leftover of
            // a silo the cluster declared dead, and must not take the destination back.
            DeactivateOnIdle();
            return;
        }

        if (_worker is not null)
        {
            await _worker.DisposeAsync().ConfigureAwait(true);
        }

        _worker = new DestinationWorker(this.GetPrimaryKeyLong(), services);
        _worker.Start(reason, startCursor);
        DelayDeactivation(TimeSpan.FromDays(365));
        await this.RegisterOrUpdateReminder(KeepAlive, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)).ConfigureAwait(true);
    }

    public async Task StopAsync(string reason)
    {
        if (await this.GetReminder(KeepAlive).ConfigureAwait(true) is { } reminder)
        {
            await this.UnregisterReminder(reminder).ConfigureAwait(true);
        }

        if (_worker is { } worker)
        {
            _worker = null;
            await worker.StopAsync(reason).ConfigureAwait(true);
            await worker.DisposeAsync().ConfigureAwait(true);
        }

        DeactivateOnIdle();
    }

    public Task MoveAsync(SiloAddress to)
    {
        if (to.Equals(silo.SiloAddress))
        {
            return Task.CompletedTask;
        }

        // Migration hands the request context to the placement director, which takes the hint.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, to);
        this.MigrateOnIdle();
        return Task.CompletedTask;
    }

    public Task<WorkerStatus> GetStatusAsync() => Task.FromResult(_worker is { } worker
        ? new WorkerStatus { State = worker.State, RecordsPerSecond = worker.RecordsPerSecond, LastError = worker.LastError, Silo = silo.Name }
        : new WorkerStatus { Silo = silo.Name });

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var row = await services.Store.Destinations.GetByIdAsync(this.GetPrimaryKeyLong(), CancellationToken.None).ConfigureAwait(true);
        if (row is { State: DestinationState.Active })
        {
            await StartAsync("restart", startCursor: null).ConfigureAwait(true);
        }
        else
        {
            await StopAsync("not active").ConfigureAwait(true);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_worker is { } worker)
        {
            _worker = null;
            var moving = reason.ReasonCode == DeactivationReasonCode.Migrating;
            _deliveredBeforeMove = moving && !worker.Stopped;
            await worker.StopAsync(moving ? "move" : "shutdown").ConfigureAwait(true);
            await worker.DisposeAsync().ConfigureAwait(true);
        }
    }

    void IGrainMigrationParticipant.OnDehydrate(IDehydrationContext dehydrationContext) =>
        dehydrationContext.TryAddValue(WasDelivering, _deliveredBeforeMove || _worker is { Stopped: false });

    void IGrainMigrationParticipant.OnRehydrate(IRehydrationContext rehydrationContext) =>
        _arrivedDelivering = rehydrationContext.TryGetValue(WasDelivering, out bool delivering) && delivering;
}
