using System.Net.Sockets;
using Kiteflow.Storage.Postgres.Clustering;
using Kiteflow.Storage.Postgres.Connection;
using Kiteflow.Storage.Postgres.Reminders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;

namespace Kiteflow.Storage.Postgres.Hosting;

/// <summary>
/// Puts an Orleans silo (or client) on Kiteflow's PostgreSQL: cluster membership and reminders in the same
/// database as the store, in tables Kiteflow's migrations create (applied when the silo starts, under an
/// advisory lock, so silos starting together apply each step once).
/// </summary>
public static class KiteflowPostgresHostingExtensions
{
    /// <summary>
    /// Cluster membership in PostgreSQL: silos with the same <see cref="KiteflowClusterOptions.ClusterId"/> on
    /// the same database find each other. Also sets the cluster and service ids and the silo's endpoints.
    /// </summary>
    /// <param name="builder">The silo.</param>
    /// <param name="connectionString">A <c>postgres://</c> URI or an Npgsql connection string.</param>
    /// <param name="configure">Ids, ports and the advertised address; see <see cref="KiteflowClusterOptions"/>.</param>
    /// <exception cref="FormatException">The connection string is not valid (the message never shows its password).</exception>
    /// <exception cref="ArgumentException">A setting is not valid; every problem is listed.</exception>
    public static ISiloBuilder UseKiteflowPostgresClustering(this ISiloBuilder builder, string connectionString, Action<KiteflowClusterOptions>? configure = null) =>
        builder.UseKiteflowPostgresClustering(PostgresConnectionString.Parse(connectionString), configure);

    /// <inheritdoc cref="UseKiteflowPostgresClustering(ISiloBuilder, string, Action{KiteflowClusterOptions}?)" />
    public static ISiloBuilder UseKiteflowPostgresClustering(this ISiloBuilder builder, PostgresConnectionString connectionString, Action<KiteflowClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        var options = Configure(configure, forClient: false);

        builder.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = options.ClusterId;
            cluster.ServiceId = options.ServiceId;
        });
        if (options.AdvertisedAddress is { } address)
        {
            builder.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, options.ListenOnAnyHostAddress);
        }
        else
        {
            builder.ConfigureEndpoints(options.SiloPort, options.GatewayPort, AddressFamily.InterNetwork, options.ListenOnAnyHostAddress);
        }

        builder.Services.TryAddSingleton<PostgresDatabases>();
        builder.Services.AddSingleton<IMembershipTable>(services => new PostgresMembershipTable(
            services.GetRequiredService<PostgresDatabases>().Get(connectionString),
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            services.GetRequiredService<ILogger<PostgresMembershipTable>>()));
        return builder;
    }

    /// <summary>
    /// Orleans reminders in PostgreSQL (and the reminder service itself), for the service id set by
    /// <see cref="UseKiteflowPostgresClustering(ISiloBuilder, string, Action{KiteflowClusterOptions}?)"/>.
    /// </summary>
    /// <param name="builder">The silo.</param>
    /// <param name="connectionString">A <c>postgres://</c> URI or an Npgsql connection string.</param>
    /// <exception cref="FormatException">The connection string is not valid (the message never shows its password).</exception>
    public static ISiloBuilder UseKiteflowPostgresReminders(this ISiloBuilder builder, string connectionString) =>
        builder.UseKiteflowPostgresReminders(PostgresConnectionString.Parse(connectionString));

    /// <inheritdoc cref="UseKiteflowPostgresReminders(ISiloBuilder, string)" />
    public static ISiloBuilder UseKiteflowPostgresReminders(this ISiloBuilder builder, PostgresConnectionString connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionString);
        builder.AddReminders();
        builder.Services.TryAddSingleton<PostgresDatabases>();
        builder.Services.AddSingleton<IReminderTable>(services => new PostgresReminderTable(
            services.GetRequiredService<PostgresDatabases>().Get(connectionString),
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            services.GetRequiredService<ILogger<PostgresReminderTable>>()));
        return builder;
    }

    /// <summary>
    /// An Orleans client that finds the cluster's gateways in the PostgreSQL membership table. Only
    /// <see cref="KiteflowClusterOptions.ClusterId"/> and <see cref="KiteflowClusterOptions.ServiceId"/> apply.
    /// </summary>
    /// <param name="builder">The client.</param>
    /// <param name="connectionString">A <c>postgres://</c> URI or an Npgsql connection string.</param>
    /// <param name="configure">The cluster and service ids.</param>
    /// <exception cref="FormatException">The connection string is not valid (the message never shows its password).</exception>
    /// <exception cref="ArgumentException">A setting is not valid; every problem is listed.</exception>
    public static IClientBuilder UseKiteflowPostgresClustering(this IClientBuilder builder, string connectionString, Action<KiteflowClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var parsed = PostgresConnectionString.Parse(connectionString);
        var options = Configure(configure, forClient: true);
        builder.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = options.ClusterId;
            cluster.ServiceId = options.ServiceId;
        });
        builder.Services.TryAddSingleton<PostgresDatabases>();
        builder.Services.AddSingleton<IGatewayListProvider>(services => new PostgresGatewayListProvider(
            services.GetRequiredService<PostgresDatabases>().Get(parsed),
            services.GetRequiredService<IOptions<ClusterOptions>>(),
            services.GetRequiredService<IOptions<GatewayOptions>>()));
        return builder;
    }

    private static KiteflowClusterOptions Configure(Action<KiteflowClusterOptions>? configure, bool forClient)
    {
        var options = new KiteflowClusterOptions();
        configure?.Invoke(options);
        var problems = options.Validate(forClient);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"The cluster settings are not valid: {string.Join("; ", problems)}.", nameof(configure));
        }

        return options;
    }
}
