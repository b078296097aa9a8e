using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;

namespace Kiteflow.Storage.Postgres.Reminders;

/// <summary>
/// Orleans' reminder table on PostgreSQL, one set of reminders per service id. Every upsert takes a new
/// etag from the etag sequence, so an etag is never reused, not even after a reminder was removed and
/// registered again; a removal with any other etag removes nothing.
/// </summary>
internal sealed partial class PostgresReminderTable : IReminderTable
{
    private readonly PostgresDatabase _database;
    private readonly string _serviceId;
    private readonly ILogger _logger;

    public PostgresReminderTable(PostgresDatabase database, IOptions<ClusterOptions> clusterOptions, ILogger<PostgresReminderTable> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(clusterOptions);
        ArgumentException.ThrowIfNullOrWhiteSpace(clusterOptions.Value.ServiceId);
        _database = database;
        _serviceId = clusterOptions.Value.ServiceId;
        _logger = logger;
    }

    public Task Init() => StartAsync(CancellationToken.None);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _database.EnsureMigratedAsync(cancellationToken).ConfigureAwait(false);
        LogStarted(_logger, _serviceId, _database.ConnectionString.Redacted);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) => ReadRows(grainId, CancellationToken.None);

    public async Task<ReminderTableData> ReadRows(GrainId grainId, CancellationToken cancellationToken)
    {
        await using var command = _database.DataSource.CreateCommand("""
            SELECT grain_id, reminder_name, start_at, period, etag FROM orleans_reminders
            WHERE service_id = @service AND grain_id = @grain
            """);
        command.Parameters.Add(Text("service", _serviceId));
        command.Parameters.Add(Text("grain", grainId.ToString()));
        return new ReminderTableData(await ReadAsync(command, cancellationToken).ConfigureAwait(false));
    }

    public Task<ReminderTableData> ReadRows(uint begin, uint end) => ReadRows(begin, end, CancellationToken.None);

    public async Task<ReminderTableData> ReadRows(uint begin, uint end, CancellationToken cancellationToken)
    {
        // The ring range (begin, end]; when begin >= end it wraps around past uint.MaxValue to 0.
        var range = begin < end
            ? "grain_hash > @begin AND grain_hash <= @end"
            : "(grain_hash > @begin OR grain_hash <= @end)";
        await using var command = _database.DataSource.CreateCommand($"""
            SELECT grain_id, reminder_name, start_at, period, etag FROM orleans_reminders
            WHERE service_id = @service AND {range}
            """);
        command.Parameters.Add(Text("service", _serviceId));
        command.Parameters.Add(new NpgsqlParameter<long>("begin", begin));
        command.Parameters.Add(new NpgsqlParameter<long>("end", end));
        return new ReminderTableData(await ReadAsync(command, cancellationToken).ConfigureAwait(false));
    }

    public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => ReadRow(grainId, reminderName, CancellationToken.None);

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName, CancellationToken cancellationToken)
    {
        await using var command = _database.DataSource.CreateCommand("""
            SELECT grain_id, reminder_name, start_at, period, etag FROM orleans_reminders
            WHERE service_id = @service AND grain_id = @grain AND reminder_name = @name
            """);
        command.Parameters.Add(Text("service", _serviceId));
        command.Parameters.Add(Text("grain", grainId.ToString()));
        command.Parameters.Add(Text("name", reminderName));
        var rows = await ReadAsync(command, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<string?> UpsertRow(ReminderEntry entry) => UpsertRow(entry, CancellationToken.None);

    public async Task<string?> UpsertRow(ReminderEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var command = _database.DataSource.CreateCommand("""
            INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, grain_hash, start_at, period, etag)
            VALUES (@service, @grain, @name, @hash, @start_at, @period, nextval('kiteflow_orleans_etag'))
            ON CONFLICT (service_id, grain_id, reminder_name)
            DO UPDATE SET start_at = excluded.start_at, period = excluded.period, etag = excluded.etag
            RETURNING etag
            """);
        command.Parameters.Add(Text("service", _serviceId));
        command.Parameters.Add(Text("grain", entry.GrainId.ToString()));
        command.Parameters.Add(Text("name", entry.ReminderName));
        command.Parameters.Add(new NpgsqlParameter<long>("hash", entry.GrainId.GetUniformHashCode()));
        command.Parameters.Add(new NpgsqlParameter<DateTime>("start_at", NpgsqlDbType.TimestampTz) { TypedValue = PostgresTime.ToUtc(entry.StartAt) });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan>("period", NpgsqlDbType.Interval) { TypedValue = entry.Period });
        var etag = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return etag.ToString(CultureInfo.InvariantCulture);
    }

    public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => RemoveRow(grainId, reminderName, eTag, CancellationToken.None);

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag, CancellationToken cancellationToken)
    {
        if (!long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out var etag))
        {
            return false;
        }

        await using var command = _database.DataSource.CreateCommand("""
            DELETE FROM orleans_reminders
            WHERE service_id = @service AND grain_id = @grain AND reminder_name = @name AND etag = @etag
            """);
        command.Parameters.Add(Text("service", _serviceId));
        command.Parameters.Add(Text("grain", grainId.ToString()));
        command.Parameters.Add(Text("name", reminderName));
        command.Parameters.Add(new NpgsqlParameter<long>("etag", etag));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public Task TestOnlyClearTable() => TestOnlyClearTable(CancellationToken.None);

    public async Task TestOnlyClearTable(CancellationToken cancellationToken)
    {
        await using var command = _database.DataSource.CreateCommand("DELETE FROM orleans_reminders WHERE service_id = @service");
        command.Parameters.Add(Text("service", _serviceId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<ReminderEntry>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var entries = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(reader.GetString(0), CultureInfo.InvariantCulture),
                ReminderName = reader.GetString(1),
                StartAt = reader.GetFieldValue<DateTime>(2),
                Period = reader.GetFieldValue<TimeSpan>(3),
                ETag = reader.GetInt64(4).ToString(CultureInfo.InvariantCulture),
            });
        }

        return entries;
    }

    private static NpgsqlParameter<string> Text(string name, string value) => new(name, NpgsqlDbType.Text) { TypedValue = value };

    [LoggerMessage(EventId = 4120, Level = LogLevel.Debug, Message = "Reminder table for service {ServiceId} ready on {Database}")]
    private static partial void LogStarted(ILogger logger, string serviceId, string database);
}
