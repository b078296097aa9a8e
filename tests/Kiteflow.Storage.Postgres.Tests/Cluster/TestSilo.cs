using System.Net;
using System.Net.Sockets;
using Kiteflow.Storage.Postgres.Hosting;
using Orleans.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Kiteflow.Storage.Postgres.Tests.Cluster;

/// <summary>A silo in this test process, on free loopback ports, clustered through the PostgreSQL tables.</summary>
internal sealed class TestSilo : IAsyncDisposable
{
    public const string ClusterId = "kiteflow-test";

    private TestSilo(IHost host, string name)
    {
        Host = host;
        Name = name;
    }

    public IHost Host { get; }

    public string Name { get; }

    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    public SiloAddress Address => Host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;

    public static async Task<TestSilo> StartAsync(string connectionString, string name, ITestOutputHelper output, CancellationToken cancellationToken)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, name));
        builder.UseOrleans(silo =>
        {
            silo.UseKiteflowPostgresClustering(connectionString, options =>
            {
                options.ClusterId = ClusterId;
                options.ServiceId = ClusterId;
                options.SiloPort = FreeLoopbackPort();
                options.GatewayPort = FreeLoopbackPort();
                options.AdvertisedAddress = IPAddress.Loopback;
            });
            silo.UseKiteflowPostgresReminders(connectionString);
            silo.Configure<SiloOptions>(options => options.SiloName = name);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new TestSilo(host, name);
    }

    /// <summary>Waits (on membership updates, not time) until this silo sees exactly <paramref name="active"/> active silos.</summary>
    public async Task WaitForActiveSilosAsync(int active, CancellationToken cancellationToken)
    {
        var membership = Host.Services.GetRequiredService<IClusterMembershipService>();
        if (CountActive(membership.CurrentSnapshot) == active)
        {
            return;
        }

        await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken))
        {
            if (CountActive(snapshot) == active)
            {
                return;
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Host.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await Host.StopAsync(timeout.Token);
        }
        finally
        {
            Host.Dispose();
        }
    }

    private static int CountActive(ClusterMembershipSnapshot snapshot) => snapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
