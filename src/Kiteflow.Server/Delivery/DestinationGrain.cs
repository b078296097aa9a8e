using Kiteflow.Storage;

namespace Kiteflow.Server.Delivery;

/// <summary>
/// The grain of one destination: it owns the destination's <see cref="DestinationWorker"/> while the destination is
/// active. The worker runs on the thread pool; the grain only starts, stops and reports it. While the worker runs the
/// grain is kept from being collected, and a reminder (every minute) starts the worker again wherever the grain is
/// activated next — after a silo died, say — as long as the store says the destination is active.
/// </summary>
internal sealed class DestinationGrain(DeliveryServices services, ILocalSiloDetails silo) : Grain, IDestinationGrain, IRemindable
{
    private const string KeepAlive = "keep-alive";
    private DestinationWorker? _worker;

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
            await worker.StopAsync("shutdown").ConfigureAwait(true);
            await worker.DisposeAsync().ConfigureAwait(true);
        }
    }
}
