using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;

namespace Kiteflow.Storage.Postgres.Clustering;

/// <summary>
/// Orleans' membership table on PostgreSQL. Every write that changes the table checks and replaces the
/// table version's etag in the same transaction (compare-and-set on the version row, which also makes
/// concurrent writers queue on that row), so of two silos that read the same version only one can write.
/// A row's own etag changes with <see cref="UpdateRowAsync"/> only: a heartbeat
/// (<see cref="UpdateIAmAliveAsync"/>) touches neither etag, as Orleans expects.
/// </summary>
internal sealed partial class PostgresMembershipTable : IMembershipTable
{
    // A version row that does not exist yet reads as version 0 with an etag no write can match
    // (the etag sequence starts at 1).
    private const string MissingEtag = "0";

    private const string Columns = """
        v.version, v.etag, m.silo, m.silo_name, m.host_name, m.role_name, m.status, m.proxy_port,
        m.update_zone, m.fault_zone, m.suspecting_silos, m.suspecting_times, m.start_time, m.i_am_alive_time, m.etag
        """;

    private readonly PostgresDatabase _database;
    private readonly string _clusterId;
    private readonly ILogger _logger;

    public PostgresMembershipTable(PostgresDatabase database, IOptions<ClusterOptions> clusterOptions, ILogger<PostgresMembershipTable> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentException.ThrowIfNullOrWhiteSpace(clusterOptions.Value.ClusterId);
        _database = database;
        _clusterId = clusterOptions.Value.ClusterId;
        _logger = logger;
    }

    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, CancellationToken.None);

    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken)
    {
        await _database.EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        if (!tryInitTableVersion)
        {
            return;
        }

        await using var command = _database.DataSource.CreateCommand("""
            INSERT INTO orleans_membership_version (cluster_id, version, etag)
            VALUES (@cluster, 0, nextval('kiteflow_orleans_etag'))
            ON CONFLICT (cluster_id) DO NOTHING
            """);
        command.Parameters.Add(Text("cluster", _clusterId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        LogInitialized(_logger, _clusterId, _database.ConnectionString.Redacted);
    }

    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, CancellationToken.None);

    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken)
    {
        // The members go with their version row (ON DELETE CASCADE).
        await using var command = _database.DataSource.CreateCommand("DELETE FROM orleans_membership_version WHERE cluster_id = @cluster");
        command.Parameters.Add(Text("cluster", clusterId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, CancellationToken.None);

    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken)
    {
        await using var command = _database.DataSource.CreateCommand("""
            DELETE FROM orleans_membership
            WHERE cluster_id = @cluster AND status = @dead AND last_activity < @before
            """);
        command.Parameters.Add(Text("cluster", _clusterId));
        command.Parameters.Add(new NpgsqlParameter<int>("dead", (int)SiloStatus.Dead));
        command.Parameters.Add(Time("before", beforeDate.UtcDateTime));
        var removed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (removed > 0)
        {
            LogDefunctRemoved(_logger, removed, _clusterId);
        }
    }

    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key, CancellationToken.None);

    public async Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        // One statement: the row and the table version come from one snapshot.
        await using var command = _database.DataSource.CreateCommand($"""
            SELECT {Columns}
            FROM orleans_membership_version v
            LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id AND m.silo = @silo
            WHERE v.cluster_id = @cluster
            """);
        command.Parameters.Add(Text("cluster", _clusterId));
        command.Parameters.Add(Text("silo", key.ToParsableString()));
        return await ReadAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public Task<MembershipTableData> ReadAll() => ReadAllAsync(CancellationToken.None);

    public async Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken)
    {
        await using var command = _database.DataSource.CreateCommand($"""
            SELECT {Columns}
            FROM orleans_membership_version v
            LEFT JOIN orleans_membership m ON m.cluster_id = v.cluster_id
            WHERE v.cluster_id = @cluster
            """);
        command.Parameters.Add(Text("cluster", _clusterId));
        return await ReadAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, CancellationToken.None);

    public async Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        await using var connection = await _database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await TryAdvanceVersionAsync(connection, transaction, tableVersion, cancellationToken).ConfigureAwait(false))
        {
            LogStaleVersion(_logger, "InsertRow", entry.SiloAddress, tableVersion.VersionEtag);
            return false;
        }

        await using var insert = new NpgsqlCommand("""
            INSERT INTO orleans_membership (
                cluster_id, silo, silo_name, host_name, role_name, status, proxy_port, update_zone, fault_zone,
                suspecting_silos, suspecting_times, start_time, i_am_alive_time, last_activity, etag)
            VALUES (
                @cluster, @silo, @silo_name, @host_name, @role_name, @status, @proxy_port, @update_zone, @fault_zone,
                @suspecting_silos, @suspecting_times, @start_time, @i_am_alive_time, @last_activity, nextval('kiteflow_orleans_etag'))
            ON CONFLICT (cluster_id, silo) DO NOTHING
            """, connection, transaction);
        AddEntry(insert, entry);
        if (await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            // The silo is in the table already; the version change is rolled back with the transaction.
            LogAlreadyThere(_logger, entry.SiloAddress);
            return false;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, CancellationToken.None);

    public async Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        if (!TryParseEtag(etag, out var rowEtag))
        {
            LogStaleRow(_logger, entry.SiloAddress);
            return false;
        }

        await using var connection = await _database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (!await TryAdvanceVersionAsync(connection, transaction, tableVersion, cancellationToken).ConfigureAwait(false))
        {
            LogStaleVersion(_logger, "UpdateRow", entry.SiloAddress, tableVersion.VersionEtag);
            return false;
        }

        // A heartbeat written since the caller read the row is newer than the entry's: keep the later one.
        await using var update = new NpgsqlCommand("""
            UPDATE orleans_membership SET
                silo_name = @silo_name, host_name = @host_name, role_name = @role_name, status = @status,
                proxy_port = @proxy_port, update_zone = @update_zone, fault_zone = @fault_zone,
                suspecting_silos = @suspecting_silos, suspecting_times = @suspecting_times, start_time = @start_time,
                i_am_alive_time = greatest(i_am_alive_time, @i_am_alive_time),
                last_activity = greatest(last_activity, @last_activity),
                etag = nextval('kiteflow_orleans_etag')
            WHERE cluster_id = @cluster AND silo = @silo AND etag = @etag
            """, connection, transaction);
        AddEntry(update, entry);
        update.Parameters.Add(new NpgsqlParameter<long>("etag", rowEtag));
        if (await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            LogStaleRow(_logger, entry.SiloAddress);
            return false;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, CancellationToken.None);

    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var command = _database.DataSource.CreateCommand("""
            UPDATE orleans_membership
            SET i_am_alive_time = @i_am_alive_time, last_activity = greatest(last_activity, @i_am_alive_time)
            WHERE cluster_id = @cluster AND silo = @silo
            """);
        command.Parameters.Add(Text("cluster", _clusterId));
        command.Parameters.Add(Text("silo", entry.SiloAddress.ToParsableString()));
        command.Parameters.Add(Time("i_am_alive_time", entry.IAmAliveTime));
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
        {
            throw new OrleansMissingMembershipEntryException(
                $"Silo {entry.SiloAddress} has no row in cluster '{_clusterId}''s membership table: it cannot report that it is alive.");
        }
    }

    private async Task<bool> TryAdvanceVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TableVersion tableVersion, CancellationToken cancellationToken)
    {
        if (!TryParseEtag(tableVersion.VersionEtag, out var expected))
        {
            return false;
        }

        await using var command = new NpgsqlCommand("""
            UPDATE orleans_membership_version
            SET version = @version, etag = nextval('kiteflow_orleans_etag'), changed_at = now()
            WHERE cluster_id = @cluster AND etag = @etag
            """, connection, transaction);
        command.Parameters.Add(Text("cluster", _clusterId));
        command.Parameters.Add(new NpgsqlParameter<int>("version", tableVersion.Version));
        command.Parameters.Add(new NpgsqlParameter<long>("etag", expected));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    private void AddEntry(NpgsqlCommand command, MembershipEntry entry)
    {
        var suspectors = entry.SuspectTimes ?? [];
        var startTime = PostgresTime.ToUtc(entry.StartTime);
        var aliveTime = PostgresTime.ToUtc(entry.IAmAliveTime);
        var lastActivity = startTime > aliveTime ? startTime : aliveTime;
        foreach (var (_, time) in suspectors)
        {
            var utc = PostgresTime.ToUtc(time);
            lastActivity = utc > lastActivity ? utc : lastActivity;
        }

        command.Parameters.Add(Text("cluster", _clusterId));
        command.Parameters.Add(Text("silo", entry.SiloAddress.ToParsableString()));
        command.Parameters.Add(Text("silo_name", entry.SiloName));
        command.Parameters.Add(Text("host_name", entry.HostName));
        command.Parameters.Add(Text("role_name", entry.RoleName));
        command.Parameters.Add(new NpgsqlParameter<int>("status", (int)entry.Status));
        command.Parameters.Add(new NpgsqlParameter<int>("proxy_port", entry.ProxyPort));
        command.Parameters.Add(new NpgsqlParameter<int>("update_zone", entry.UpdateZone));
        command.Parameters.Add(new NpgsqlParameter<int>("fault_zone", entry.FaultZone));
        command.Parameters.Add(new NpgsqlParameter<string[]>("suspecting_silos", NpgsqlDbType.Array | NpgsqlDbType.Text)
        {
            TypedValue = [.. suspectors.Select(s => s.Item1.ToParsableString())],
        });
        command.Parameters.Add(new NpgsqlParameter<DateTime[]>("suspecting_times", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            TypedValue = [.. suspectors.Select(s => PostgresTime.ToUtc(s.Item2))],
        });
        command.Parameters.Add(Time("start_time", startTime));
        command.Parameters.Add(Time("i_am_alive_time", aliveTime));
        command.Parameters.Add(Time("last_activity", lastActivity));
    }

    private static async Task<MembershipTableData> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        TableVersion? version = null;
        var members = new List<Tuple<MembershipEntry, string>>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            version ??= new TableVersion(reader.GetInt32(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture));
            if (reader.IsDBNull(2))
            {
                continue; // the version row with no member (LEFT JOIN)
            }

            var silos = reader.GetFieldValue<string[]>(10);
            var times = reader.GetFieldValue<DateTime[]>(11);
            var entry = new MembershipEntry
            {
                SiloAddress = SiloAddress.FromParsableString(reader.GetString(2)),
                SiloName = reader.IsDBNull(3) ? null! : reader.GetString(3),
                HostName = reader.IsDBNull(4) ? null! : reader.GetString(4),
                RoleName = reader.IsDBNull(5) ? null! : reader.GetString(5),
                Status = (SiloStatus)reader.GetInt32(6),
                ProxyPort = reader.GetInt32(7),
                UpdateZone = reader.GetInt32(8),
                FaultZone = reader.GetInt32(9),
                SuspectTimes = [.. silos.Zip(times, (silo, time) => Tuple.Create(SiloAddress.FromParsableString(silo), time))],
                StartTime = reader.GetFieldValue<DateTime>(12),
                IAmAliveTime = reader.GetFieldValue<DateTime>(13),
            };
            members.Add(Tuple.Create(entry, reader.GetInt64(14).ToString(CultureInfo.InvariantCulture)));
        }

        return new MembershipTableData(members, version ?? new TableVersion(0, MissingEtag));
    }

    private static bool TryParseEtag(string? etag, out long value) =>
        long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static NpgsqlParameter<string> Text(string name, string? value) =>
        new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter<DateTime> Time(string name, DateTime value) =>
        new(name, NpgsqlDbType.TimestampTz) { TypedValue = PostgresTime.ToUtc(value) };

    [LoggerMessage(EventId = 4110, Level = LogLevel.Debug, Message = "Membership table for cluster {ClusterId} ready on {Database}")]
    private static partial void LogInitialized(ILogger logger, string clusterId, string database);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Debug, Message = "{Operation} for silo {Silo} lost the race: the table version's etag {Etag} is no longer current")]
    private static partial void LogStaleVersion(ILogger logger, string operation, SiloAddress silo, string etag);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Debug, Message = "InsertRow for silo {Silo} refused: the silo is in the table already")]
    private static partial void LogAlreadyThere(ILogger logger, SiloAddress silo);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Debug, Message = "UpdateRow for silo {Silo} refused: its row is gone or its etag is no longer current")]
    private static partial void LogStaleRow(ILogger logger, SiloAddress silo);

    [LoggerMessage(EventId = 4114, Level = LogLevel.Information, Message = "Removed {Count} defunct silo entries from cluster {ClusterId}")]
    private static partial void LogDefunctRemoved(ILogger logger, int count, string clusterId);
}
