namespace Kiteflow.Server.Delivery;

/// <summary>
/// Once the silo runs: every destination the store says is active is started again (after a restart, or a crash that
/// left a stretch claimed). Registered after Orleans, so it starts after the silo and stops before it.
/// </summary>
internal sealed class DeliveryStartup(DeliveryControl control) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => control.RestartActiveAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
