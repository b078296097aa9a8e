namespace Kiteflow.Server.Delivery;

/// <summary>
/// Once the silo runs: every destination the store says is active is started again (after a restart, or a crash that
/// left a stretch claimed). Registered after Orleans, so it starts after the silo and stops before it: on shutdown it
/// stops this process's destination workers gracefully — their calls in flight are answered and recorded — while the
/// silo and the store still run. The destinations stay active in the store, so the next start resumes them. An api silo
/// hosts no destination: the worker silos start them when they join.
/// </summary>
internal sealed class DeliveryStartup(DeliveryControl control, DeliveryServices services, Hosting.SiloIdentity identity) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => identity.HostsGrains ? control.RestartActiveAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => services.StopWorkersAsync("shutdown").WaitAsync(cancellationToken);
}
