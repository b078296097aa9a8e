using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;

namespace Kiteflow.Storage.Postgres.Clustering;

/// <summary>
/// For an Orleans client: the gateways of the cluster's active silos, read from the membership table the
/// silos keep. A client never migrates the schema; the silos do.
/// </summary>
internal sealed class PostgresGatewayListProvider : IGatewayListProvider
{
    private readonly PostgresDatabase _database;
    private readonly string _clusterId;

    public PostgresGatewayListProvider(PostgresDatabase database, IOptions<ClusterOptions> clusterOptions, IOptions<GatewayOptions> gatewayOptions)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentNullException.ThrowIfNull(gatewayOptions);
        _database = database;
        _clusterId = clusterOptions.Value.ClusterId;
        MaxStaleness = gatewayOptions.Value.GatewayListRefreshPeriod;
    }

    public TimeSpan MaxStaleness { get; }

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IList<Uri>> GetGateways() => GetGatewaysAsync(CancellationToken.None);

    public async Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken)
    {
        await using var command = _database.DataSource.CreateCommand("""
            SELECT silo, proxy_port FROM orleans_membership
            WHERE cluster_id = @cluster AND status = @active AND proxy_port > 0
            """);
        command.Parameters.AddWithValue("cluster", _clusterId);
        command.Parameters.AddWithValue("active", (int)SiloStatus.Active);
        var gateways = new List<Uri>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var silo = SiloAddress.FromParsableString(reader.GetString(0));
            var gateway = SiloAddress.New(new IPEndPoint(silo.Endpoint.Address, reader.GetInt32(1)), silo.Generation);
            gateways.Add(gateway.ToGatewayUri());
        }

        return gateways;
    }
}
