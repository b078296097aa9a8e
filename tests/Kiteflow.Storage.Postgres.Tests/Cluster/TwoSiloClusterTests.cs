using Kiteflow.Storage.Postgres.Hosting;
using Kiteflow.Testing.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace Kiteflow.Storage.Postgres.Tests.Cluster;

/// <summary>
/// Two real silos in this process, clustered only through the membership table on the throwaway PostgreSQL:
/// nothing but the database tells one silo where the other is.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TwoSiloClusterTests(PostgresServerFixture postgres, ITestOutputHelper output)
{
    // Bounds every test: silos start in seconds; this only stops a broken cluster from hanging the run.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task TwoSilos_OnePostgres_FindEachOtherAndServeOneActivationToBoth()
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var db = await TestDatabase.CreateAsync(postgres);
        var connectionString = db.ConnectionString.ToNpgsqlConnectionString();

        // Started together: both migrate and join at the same time.
        var started = await Task.WhenAll(
            TestSilo.StartAsync(connectionString, "silo-a", output, timeout.Token),
            TestSilo.StartAsync(connectionString, "silo-b", output, timeout.Token));
        await using var a = started[0];
        await using var b = started[1];
        await a.WaitForActiveSilosAsync(2, timeout.Token);
        await b.WaitForActiveSilosAsync(2, timeout.Token);

        Assert.Equal(2L, await db.ScalarAsync<long>("SELECT count(*) FROM orleans_membership WHERE status = $1", (int)SiloStatus.Active));

        // A grain placed on A answers B's call from the same activation, and the other way round.
        var onA = await a.Grains.GetGrain<IWhereGrain>("home-a").WhereAreYou();
        var onB = await b.Grains.GetGrain<IWhereGrain>("home-b").WhereAreYou();
        Assert.StartsWith(a.Address.ToParsableString() + " ", onA, StringComparison.Ordinal);
        Assert.StartsWith(b.Address.ToParsableString() + " ", onB, StringComparison.Ordinal);
        Assert.Equal(onA, await b.Grains.GetGrain<IWhereGrain>("home-a").WhereAreYou());
        Assert.Equal(onB, await a.Grains.GetGrain<IWhereGrain>("home-b").WhereAreYou());

        // A silo that leaves is marked dead in the table, and the other sees it go.
        await b.StopAsync(timeout.Token);
        await a.WaitForActiveSilosAsync(1, timeout.Token);
        Assert.Equal((int)SiloStatus.Dead, await db.ScalarAsync<int>("SELECT status FROM orleans_membership WHERE silo = $1", b.Address.ToParsableString()));
    }

    [Fact]
    public async Task Client_FindsTheGatewaysInTheTable_AndReachesTheCluster()
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var db = await TestDatabase.CreateAsync(postgres);
        var connectionString = db.ConnectionString.ToNpgsqlConnectionString();
        await using var silo = await TestSilo.StartAsync(connectionString, "silo-a", output, timeout.Token);
        var expected = await silo.Grains.GetGrain<IWhereGrain>("home").WhereAreYou();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client.UseKiteflowPostgresClustering(connectionString, options =>
        {
            options.ClusterId = TestSilo.ClusterId;
            options.ServiceId = TestSilo.ClusterId;
        }));
        using var clientHost = builder.Build();
        await clientHost.StartAsync(timeout.Token);
        try
        {
            var answer = await clientHost.Services.GetRequiredService<IClusterClient>().GetGrain<IWhereGrain>("home").WhereAreYou();

            Assert.Equal(expected, answer);
        }
        finally
        {
            await clientHost.StopAsync(timeout.Token);
        }
    }

    [Fact]
    public async Task Reminder_RegisteredThroughOneSilo_FiresAndLivesInTheTable()
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var db = await TestDatabase.CreateAsync(postgres);
        var connectionString = db.ConnectionString.ToNpgsqlConnectionString();
        var started = await Task.WhenAll(
            TestSilo.StartAsync(connectionString, "silo-a", output, timeout.Token),
            TestSilo.StartAsync(connectionString, "silo-b", output, timeout.Token));
        await using var a = started[0];
        await using var b = started[1];
        await a.WaitForActiveSilosAsync(2, timeout.Token);
        await b.WaitForActiveSilosAsync(2, timeout.Token);
        var key = $"probe-{Guid.NewGuid():N}";
        var tick = ReminderProbeGrain.Ticks.GetOrAdd(key, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));
        var probe = a.Grains.GetGrain<IReminderProbeGrain>(key);

        await probe.Register(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM orleans_reminders WHERE grain_id LIKE $1", "%" + key));
        var firedOn = await tick.Task.WaitAsync(timeout.Token);
        Assert.Contains(firedOn, new[] { a.Address.ToParsableString(), b.Address.ToParsableString() });

        await probe.Unregister();
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM orleans_reminders WHERE grain_id LIKE $1", "%" + key));
    }
}
